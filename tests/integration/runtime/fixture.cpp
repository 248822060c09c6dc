#include "tests/integration/runtime/fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace crius::testing::rt {

namespace {

bool executable(const std::string& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, s.find(',') != std::string::npos ? ',' : ';')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Tests crius-runtime is known not to pass yet, from the CMake list
// CRIUS_RUNTIME_KNOWN_GAPS and the environment variable of the same name.
// Entries are "Suite.Test" (e.g. "Process.Terminal") or a bare test name.
std::vector<std::string> known_gaps() {
  std::vector<std::string> gaps;
#ifdef CRIUS_RUNTIME_KNOWN_GAPS
  gaps = split_list(CRIUS_RUNTIME_KNOWN_GAPS);
#endif
  if (const char* env = std::getenv("CRIUS_RUNTIME_KNOWN_GAPS")) {
    auto more = split_list(env);
    gaps.insert(gaps.end(), more.begin(), more.end());
  }
  return gaps;
}

// "Runtime/Lifecycle" + "CreateThenStart/runc" → "Lifecycle.CreateThenStart".
std::string current_test_key() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string suite = info->test_suite_name(), name = info->name();
  if (auto s = suite.find('/'); s != std::string::npos) suite = suite.substr(s + 1);
  if (auto s = name.find('/'); s != std::string::npos) name = name.substr(0, s);
  return suite + "." + name;
}

}  // namespace

std::vector<RuntimeParam> runtimes_under_test() {
  std::vector<RuntimeParam> list;
#ifdef CRIUS_RUNC_PATH
  list.push_back({"runc", CRIUS_RUNC_PATH});
#endif
#ifdef CRIUS_CRUN_PATH
  list.push_back({"crun", CRIUS_CRUN_PATH});
#endif
#ifdef CRIUS_RUNTIME_PATH
  list.push_back({"crius-runtime", CRIUS_RUNTIME_PATH});
#endif
  return list;
}

std::string param_name(const ::testing::TestParamInfo<RuntimeParam>& info) {
  std::string n = info.param.name;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

void RuntimeTest::SetUp() {
  const auto& p = GetParam();
  if (::geteuid() != 0) GTEST_SKIP() << "runtime integration tests need root";
  if (!executable(p.binary)) GTEST_SKIP() << p.name << " not found at " << p.binary;
  if (p.name == "crius-runtime") {
    const std::string key = current_test_key();
    const std::string bare = key.substr(key.find('.') + 1);
    for (const auto& gap : known_gaps()) {
      if (gap == key || gap == bare) GTEST_SKIP() << "crius-runtime does not support " << key << " yet";
    }
  }
  tmp_ = std::make_unique<TempDir>("crius-rt-");
  fs::create_directories(tmp_->path() / "state");
  rt_ = std::make_unique<Runtime>(p.name, p.binary, tmp_->path() / "state");
}

void RuntimeTest::TearDown() {
  if (!tmp_) return;  // skipped before setup
  // No state left in the runtime's root; what is left is reported, then
  // force-deleted so that its processes do not outlive the test.
  std::error_code ec;
  if (fs::exists(rt_->root(), ec)) {
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(rt_->root(), ec)) left.push_back(e.path().filename().string());
    for (const auto& id : left) {
      ADD_FAILURE() << "leaked state " << (rt_->root() / id) << " in " << rt_->name() << "'s root";
      rt_->del(id, true);
    }
  }
  // No process left: every container process ends up as our child (we are a
  // subreaper), so a live child now is a leak.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  std::vector<pid_t> kids;
  for (;;) {
    reap_zombies();
    kids = live_children();
    if (kids.empty() || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(5ms);
  }
  for (pid_t k : kids) {
    std::string cmdline = read_file("/proc/" + std::to_string(k) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    ADD_FAILURE() << "leaked process " << k << ": " << cmdline;
    ::kill(k, SIGKILL);
    wait_gone(k, 2s);
  }
  // No mount left under the test's directories (TempDir detaches them).
  for (const auto& m : mounts_under(tmp_->path())) ADD_FAILURE() << "leaked mount " << m;
  rt_.reset();
  tmp_.reset();
}

fs::path RuntimeTest::dir(const std::string& name) {
  fs::path p = tmp_->path() / name;
  fs::create_directories(p);
  return p;
}

std::unique_ptr<Bundle> RuntimeTest::bundle(const std::string& name) {
  return std::make_unique<Bundle>(tmp_->path() / name);
}

std::unique_ptr<Container> RuntimeTest::container(const std::string& hint) {
  return std::make_unique<Container>(*rt_, unique_id(hint));
}

}  // namespace crius::testing::rt
