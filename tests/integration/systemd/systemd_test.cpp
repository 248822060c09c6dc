// The systemd cgroup driver against crius-fake-systemd (sd-bus, peer to
// peer on a private socket, reached through CRIUS_SYSTEMD_BUS): our D-Bus
// client and wire format against sd-bus's, crius-runtime --systemd-cgroup
// making the container's scope, and the pod slice of sandbox/cgroup.
// Every cgroup lives under a slice named for the test process
// (/crius_sdtest<pid>.slice in each hierarchy), removed at the end.
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "base/error.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/systemd.h"
#include "sandbox/cgroup.h"
#include "tests/integration/systemd/fake_systemd.h"
#include "tests/integration/runtime/harness.h"

namespace crius::testing {
namespace {

namespace rt = crius::testing::rt;
namespace sd = crius::oci::cgroups::systemd;
using crius::oci::dbus::Value;
using nlohmann::json;

// Every hierarchy root of the host (v2 and each v1 mount).
std::vector<std::string> all_roots() {
  const auto& h = oci::cgroups::Hierarchy::host();
  std::set<std::string> out;
  if (!h.unified.empty()) out.insert(h.unified);
  for (const auto& [c, mp] : h.v1) out.insert(mp);
  return {out.begin(), out.end()};
}

// Kills and removes a cgroup tree, children first.
void remove_tree(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        subs.push_back(dir + "/" + e->d_name);
    ::closedir(d);
    for (const auto& s : subs) remove_tree(s);
  } else {
    return;
  }
  std::ifstream procs(dir + "/cgroup.procs");
  pid_t p;
  while (procs >> p) ::kill(p, SIGKILL);
  for (int i = 0; i < 200 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

bool exists_anywhere(const std::string& path) {
  for (const auto& r : all_roots())
    if (::access((r + path).c_str(), F_OK) == 0) return true;
  return false;
}

// The cgroup of pid in the v2 tree (or, without one, the memory controller's).
std::string cgroup_of(pid_t pid) {
  const auto m = oci::cgroups::parse_proc_cgroup(rt::read_file("/proc/" + std::to_string(pid) + "/cgroup"));
  const auto& h = oci::cgroups::Hierarchy::host();
  auto it = m.find(h.unified.empty() ? "memory" : "");
  return it == m.end() ? "" : it->second;
}

// The fake, running for one test; the test slice removed after it.
class SystemdDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ASSERT_TRUE(fake_.ready()) << "the fake systemd did not start";
    ::setenv("CRIUS_SYSTEMD_BUS", fake_.address().c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("CRIUS_SYSTEMD_BUS");
    for (const auto& r : all_roots()) remove_tree(r + "/" + slice_);
  }
  std::vector<json> calls(const std::string& method) const { return fake_.calls(method); }

  rt::TempDir tmp_{"crius-sd-"};
  FakeSystemd fake_{CRIUS_FAKE_SYSTEMD_PATH, tmp_.path().string()};
  // No dash: a top-level slice of its own in every hierarchy.
  const std::string slice_ = "crius_sdtest" + std::to_string(::getpid()) + ".slice";
};

TEST_F(SystemdDriver, ClientStartsAndStopsUnitsThroughSdBus) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const std::string unit = "crius-lib.scope";
  const std::vector<Value> props = {
      sd::property("Description", Value::string("a test scope")),
      sd::property("Slice", Value::string(slice_)),
      sd::property("Delegate", Value::boolean(true)),
      sd::property("PIDs", Value::array("u", {Value::u32(static_cast<uint32_t>(child))})),
      sd::property("MemoryMax", Value::u64(1ull << 40)),
      sd::property("Wants", Value::array("s", {Value::string("x.slice"), Value::string("y.slice")})),
  };
  EXPECT_TRUE(sd::start_transient_unit(unit, props));
  auto starts = calls("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["name"], unit);
  EXPECT_EQ(starts[0]["mode"], "replace");
  const json& p = starts[0]["properties"];
  EXPECT_EQ(p["Description"], "a test scope");
  EXPECT_EQ(p["Slice"], slice_);
  EXPECT_EQ(p["Delegate"], true);
  EXPECT_EQ(p["PIDs"], json::array({child}));
  EXPECT_EQ(p["MemoryMax"], 1ull << 40);
  EXPECT_EQ(p["Wants"], json::array({"x.slice", "y.slice"}));
  EXPECT_EQ(calls("Subscribe").size(), 1u);
  EXPECT_EQ(cgroup_of(child), "/" + slice_ + "/" + unit);

  // A second start: systemd's UnitExists, as AlreadyExists or "not ours".
  try {
    sd::start_transient_unit(unit, props);
    ADD_FAILURE() << "a second start of " << unit << " succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::already_exists) << e.what();
  }
  EXPECT_FALSE(sd::start_transient_unit(unit, props, true));

  sd::stop_unit(unit);
  ASSERT_EQ(calls("StopUnit").size(), 1u);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(exists_anywhere("/" + slice_ + "/" + unit));
  EXPECT_NO_THROW(sd::stop_unit(unit));  // NoSuchUnit is fine
}

TEST_F(SystemdDriver, RuntimeCreatesTheContainerScope) {
  rt::Runtime runtime("crius-runtime", CRIUS_RUNTIME_PATH, tmp_.path() / "state");
  rt::Bundle b(tmp_.path() / "bundle");
  const std::string id = rt::unique_id("sd");
  b.spec["linux"]["cgroupsPath"] = slice_ + ":crius:" + id;
  b.spec["linux"]["resources"]["pids"]["limit"] = 77;
  b.args({"sleep", "60"});
  b.write();
  const std::string scope = "/" + slice_ + "/crius-" + id + ".scope";
  {
    rt::Container c(runtime, id);
    auto r = runtime.cmd({"--systemd-cgroup", "create", "--bundle", b.dir().string(), id});
    ASSERT_TRUE(r.ok()) << r.describe();
    const pid_t pid = c.pid();
    ASSERT_GT(pid, 0);
    auto starts = calls("StartTransientUnit");
    ASSERT_EQ(starts.size(), 1u);
    EXPECT_EQ(starts[0]["name"], "crius-" + id + ".scope");
    const json& p = starts[0]["properties"];
    EXPECT_EQ(p["Slice"], slice_);
    EXPECT_EQ(p["Delegate"], true);
    EXPECT_EQ(p["DefaultDependencies"], false);
    EXPECT_EQ(p["PIDs"], json::array({pid}));
    EXPECT_EQ(p["TasksMax"], 77);
    EXPECT_EQ(cgroup_of(pid), scope);
    const auto& h = oci::cgroups::Hierarchy::host();
    if (h.has_v1("pids")) {
      EXPECT_EQ(rt::read_file(h.v1.at("pids") + scope + "/pids.max"), "77\n");
    }

    auto d = runtime.del(id, true);
    ASSERT_TRUE(d.ok()) << d.describe();
    auto stops = calls("StopUnit");
    ASSERT_EQ(stops.size(), 1u);
    EXPECT_EQ(stops[0]["name"], "crius-" + id + ".scope");
    EXPECT_TRUE(rt::wait_gone(pid));
    EXPECT_FALSE(exists_anywhere(scope));
  }
}

TEST_F(SystemdDriver, FailedScopeJobUndoesCreate) {
  rt::Runtime runtime("crius-runtime", CRIUS_RUNTIME_PATH, tmp_.path() / "state");
  rt::Bundle b(tmp_.path() / "bundle");
  const std::string id = rt::unique_id("fail-job");
  b.spec["linux"]["cgroupsPath"] = slice_ + ":crius:" + id;
  b.args({"sleep", "60"});
  b.write();
  rt::Container c(runtime, id);
  auto r = runtime.cmd({"--systemd-cgroup", "create", "--bundle", b.dir().string(), id});
  EXPECT_FALSE(r.ok()) << r.describe();
  EXPECT_NE(r.err.find("failed"), std::string::npos) << r.err;
  EXPECT_FALSE(runtime.state(id).ok());
  EXPECT_FALSE(exists_anywhere("/" + slice_ + "/crius-" + id + ".scope"));
}

TEST_F(SystemdDriver, PodSliceIsATransientUnitOnlyWhenMissing) {
  const std::string pod = slice_.substr(0, slice_.size() - 6) + "-pod1.slice";
  const std::string path = sandbox::cgroup_path(pod, "systemd");
  EXPECT_EQ(path, "/" + slice_ + "/" + pod);
  auto made = sandbox::create_cgroup(path, sandbox::cgroup_mounts(), pod);
  auto starts = calls("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["name"], pod);
  EXPECT_TRUE(starts[0]["properties"].contains("Description"));
  ASSERT_FALSE(made.empty());
  EXPECT_EQ(made.front(), "unit:" + pod);
  for (const auto& r : all_roots()) EXPECT_EQ(::access((r + path).c_str(), F_OK), 0) << r + path;

  // Already there (kubelet made it): not started, not ours to stop.
  auto again = sandbox::create_cgroup(path, sandbox::cgroup_mounts(), pod);
  EXPECT_EQ(calls("StartTransientUnit").size(), 2u);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(sandbox::remove_cgroup_dirs(again), "");
  EXPECT_TRUE(calls("StopUnit").empty());

  EXPECT_EQ(sandbox::remove_cgroup_dirs(made), "");
  auto stops = calls("StopUnit");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0]["name"], pod);
  EXPECT_FALSE(exists_anywhere(path));
}

}  // namespace
}  // namespace crius::testing
