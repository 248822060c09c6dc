#include "tests/bench/cri/bench_user.h"
//
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace crius::bench {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUserPrefix = "crius-bench-";
constexpr const char* kTun = "/dev/net/tun";

// A shell command's exit code (its output dropped).
int sh(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return rc >= 0 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// "start:count" of the user's line in /etc/subuid, "" when it has none.
std::string subuid_range_of(const std::string& name) {
  for (const auto& line : lines_of("/etc/subuid"))
    if (line.rfind(name + ":", 0) == 0) return line.substr(name.size() + 1);
  return "";
}

// Only users this bench made: the name comes from a file in /tmp.
void remove_user(const std::string& name) {
  if (name.rfind(kUserPrefix, 0) != 0) return;
  const passwd* pw = ::getpwnam(name.c_str());
  if (!pw) return;
  const uid_t uid = pw->pw_uid;
  // userdel refuses a user that still runs something.
  for (int i = 0; i < 100 && sh("pgrep -u " + name) == 0; ++i) {
    sh("pkill -KILL -u " + name);
    std::this_thread::sleep_for(50ms);
  }
  if (sh("userdel -r " + name) != 0 && ::getpwnam(name.c_str()))
    std::fprintf(stderr, "note: userdel -r %s failed; remove the user by hand\n", name.c_str());
  std::error_code ec;
  fs::remove_all("/run/user/" + std::to_string(uid), ec);
}

}  // namespace

BenchUser::BenchUser(const RunDir& run) {
  name = kUserPrefix;
  for (char c : run.tag()) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  run.note("users.list", name);  // before it exists: a crash from here on removes it
  if (sh("useradd -m -d /home/" + name + " -s /bin/sh " + name) != 0)
    throw std::runtime_error("useradd " + name + " failed");
  const passwd* pw = ::getpwnam(name.c_str());
  if (!pw) throw std::runtime_error("no user " + name + " after useradd");
  uid = pw->pw_uid;
  gid = pw->pw_gid;
  home = pw->pw_dir;
  if (subuid_range_of(name).empty() &&
      sh("usermod --add-subuids 400000-465535 --add-subgids 400000-465535 " + name) != 0)
    throw std::runtime_error("usermod --add-subuids for " + name + " failed");
  subuid_range = subuid_range_of(name);
  if (subuid_range.empty()) throw std::runtime_error("no line for " + name + " in /etc/subuid");
  runtime_dir = "/run/user/" + std::to_string(uid);
  fs::create_directories(runtime_dir);
  if (::chown(runtime_dir.c_str(), uid, gid) != 0 || ::chmod(runtime_dir.c_str(), 0700) != 0)
    throw std::runtime_error("preparing " + runtime_dir + ": " + std::strerror(errno));
}

BenchUser::~BenchUser() { remove_user(name); }

TunOpen::TunOpen(const RunDir& run) : note_(run / "tun.mode") {
  struct stat st;
  if (::stat(kTun, &st) != 0) return;  // slirp4netns will say so
  mode_ = st.st_mode & 07777;
  if (mode_ == 0666) return;
  std::ofstream(note_) << std::oct << mode_ << "\n";
  changed_ = ::chmod(kTun, 0666) == 0;
}

TunOpen::~TunOpen() {
  if (!changed_) return;
  ::chmod(kTun, mode_);
  ::unlink(note_.c_str());
}

void cleanup_bench_users(const std::string& run_dir) {
  for (const auto& name : lines_of(run_dir + "/users.list")) remove_user(name);
  const auto mode = lines_of(run_dir + "/tun.mode");
  if (!mode.empty()) ::chmod(kTun, static_cast<mode_t>(std::stoul(mode[0], nullptr, 8)));
}

std::string rootless_tools_missing() {
  std::string missing;
  for (const char* tool : {"newuidmap", "newgidmap", "slirp4netns"}) {
    bool found = false;
    for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"})
      found = found || ::access((std::string(dir) + tool).c_str(), X_OK) == 0;
    if (!found) missing += std::string(missing.empty() ? "" : ", ") + tool;
  }
  return missing;
}

}  // namespace crius::bench
