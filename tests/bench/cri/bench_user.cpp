#include "tests/bench/cri/bench_user.h"

#include <cctype>

namespace crius::bench {

namespace {

constexpr const char* kUserPrefix = "crius-bench-";

// Noted before it exists: a crash from there on removes it.
std::string noted_user(const RunDir& run) {
  std::string name = kUserPrefix;
  for (char c : run.tag()) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  run.note("users.list", name);
  return name;
}

}  // namespace

BenchUser::BenchUser(const RunDir& run) : fixtures::HostUser(noted_user(run)) {}

TunOpen::TunOpen(const RunDir& run) : fixtures::TunOpen(run / "tun.mode") {}

void cleanup_bench_users(const std::string& run_dir) {
  // Only users this bench made: the names come from a file in /tmp.
  for (const auto& name : lines_of(run_dir + "/users.list"))
    if (name.starts_with(kUserPrefix)) fixtures::remove_host_user(name);
  fixtures::TunOpen::restore(run_dir + "/tun.mode");
}

}  // namespace crius::bench
