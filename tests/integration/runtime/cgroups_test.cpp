// linux.resources and the verbs that need a cgroup (pause, resume, update,
// ps, events --stats, delete), checked from the host's cgroupfs. On a v1 or
// hybrid host the v1 controller files are read, on a v2 host the unified ones.
#include <dirent.h>
#include <unistd.h>

#include <thread>

#include "oci/cgroups/path.h"
#include "oci/cgroups/stats.h"
#include "tests/integration/runtime/fixture.h"
#include "tests/support/eventually.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Cgroups);

bool v2_host() { return fs::exists("/sys/fs/cgroup/cgroup.controllers"); }

std::string trimmed(const fs::path& p) {
  std::string s = read_file(p);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The file of the container's cgroup: v1 controller dir or the v2 dir.
fs::path cg_file(const std::string& path, const std::string& v1_controller, const std::string& file) {
  if (v2_host()) return fs::path("/sys/fs/cgroup") / path.substr(1) / file;
  return fs::path("/sys/fs/cgroup") / v1_controller / path.substr(1) / file;
}

// Removes, whatever the test did, the cgroups it named (leaf first) in every
// hierarchy; only empty ones can go, so nothing running is touched.
class CgroupCleanup {
 public:
  explicit CgroupCleanup(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  ~CgroupCleanup() {
    for (const auto& p : paths_)
      for (const auto& dir : dirs(p)) ::rmdir(dir.c_str());
  }
  static std::vector<std::string> dirs(const std::string& path) {
    std::vector<std::string> out;
    if (v2_host()) return {"/sys/fs/cgroup" + path};
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup"))
      if (e.is_directory()) out.push_back(e.path().string() + path);
    return out;
  }
  static bool any_exists(const std::string& path) {
    for (const auto& d : dirs(path))
      if (fs::exists(d)) return true;
    return false;
  }

 private:
  std::vector<std::string> paths_;
};

std::string test_cgroup(const std::string& hint) { return "/crius-test-" + unique_id(hint); }

TEST_P(Cgroups, ResourcesAreWrittenToCgroupfs) {
  auto b = bundle();
  const std::string cg = test_cgroup("res");
  CgroupCleanup cleanup({cg});
  b->spec["linux"]["cgroupsPath"] = cg;
  b->spec["linux"]["resources"]["memory"] = {{"limit", 64 << 20}, {"reservation", 32 << 20}};
  b->spec["linux"]["resources"]["cpu"] = {{"shares", 512}, {"quota", 20000}, {"period", 100000}, {"cpus", "0"}};
  b->spec["linux"]["resources"]["pids"] = {{"limit", 50}};
  b->args({"sleep", "60"});
  auto c = container();
  std::string err;
  ASSERT_GT(c->launch(*b, "sleep", &err), 0) << err;
  if (v2_host()) {
    EXPECT_EQ(trimmed(cg_file(cg, "", "memory.max")), std::to_string(64 << 20));
    EXPECT_EQ(trimmed(cg_file(cg, "", "memory.low")), std::to_string(32 << 20));
    EXPECT_EQ(trimmed(cg_file(cg, "", "cpu.max")), "20000 100000");
    EXPECT_EQ(trimmed(cg_file(cg, "", "cpu.weight")), "20");
  } else {
    EXPECT_EQ(trimmed(cg_file(cg, "memory", "memory.limit_in_bytes")), std::to_string(64 << 20));
    EXPECT_EQ(trimmed(cg_file(cg, "memory", "memory.soft_limit_in_bytes")), std::to_string(32 << 20));
    EXPECT_EQ(trimmed(cg_file(cg, "cpu", "cpu.shares")), "512");
    EXPECT_EQ(trimmed(cg_file(cg, "cpu", "cpu.cfs_quota_us")), "20000");
    EXPECT_EQ(trimmed(cg_file(cg, "cpu", "cpu.cfs_period_us")), "100000");
  }
  EXPECT_EQ(trimmed(cg_file(cg, "pids", "pids.max")), "50");
  EXPECT_EQ(trimmed(cg_file(cg, "cpuset", "cpuset.cpus")), "0");
  // The init is in it.
  EXPECT_NE(read_file(cg_file(cg, "memory", "cgroup.procs")).find(std::to_string(c->last_pid())), std::string::npos);
}

TEST_P(Cgroups, InvalidResourceIsRefused) {
  auto b = bundle();
  const std::string cg = test_cgroup("bad");
  CgroupCleanup cleanup({cg});
  b->spec["linux"]["cgroupsPath"] = cg;
  b->spec["linux"]["resources"]["cpu"] = {{"period", 10}};  // below the kernel's 1ms minimum
  b->args({"true"});
  auto c = container();
  auto r = c->create(*b);
  EXPECT_FALSE(r.ok()) << r.describe();
  if (is("crius-runtime")) {
    EXPECT_NE(r.err.find("linux.resources.cpu.period"), std::string::npos) << r.describe();
  }
  // crun 1.8.1 leaves the cgroup of a failed create behind.
  if (!is("crun")) {
    EXPECT_FALSE(CgroupCleanup::any_exists(cg)) << "a failed create left its cgroup behind";
  }
}

TEST_P(Cgroups, MemoryLimitOomKillsAndIsCounted) {
  auto b = bundle();
  const std::string cg = test_cgroup("oom");
  CgroupCleanup cleanup({cg});
  b->spec["linux"]["cgroupsPath"] = cg;
  // No swap to escape to: memory+swap equals the limit.
  b->spec["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  // tail keeps the line it is reading, which never ends: it grows until
  // the limit. It is the container's only process, so the OOM killer has no
  // other choice (a shell around it may be picked instead and hang the test).
  b->sh("exec tail < /dev/zero");
  auto c = container();
  std::string err;
  const pid_t pid = c->launch(*b, "tail", &err);
  ASSERT_GT(pid, 0) << err;
  ASSERT_TRUE(wait_gone(pid, 30s)) << "tail outgrew the limit without being killed";
  // The kernel counted the kill in the container's memory cgroup, and the
  // stats reader sees it, whichever runtime made the cgroup.
  const auto stats = oci::cgroups::read_stats(oci::cgroups::resolve_here(cg));
  EXPECT_GE(stats.memory.oom_kill, 1u) << "the stats reader did not count the OOM kill";
}

TEST_P(Cgroups, PidsLimitStopsAForkBomb) {
  auto b = bundle();
  const std::string cg = test_cgroup("pids");
  CgroupCleanup cleanup({cg});
  b->spec["linux"]["cgroupsPath"] = cg;
  b->spec["linux"]["resources"]["pids"] = {{"limit", 8}};
  // Bounded: 40 forks at most; busybox sh gives up at the first refused one.
  b->sh("i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo all-forked");
  auto r = rt().run(unique_id("pids"), *b, 30s);
  EXPECT_EQ(r.out.find("all-forked"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("fork"), std::string::npos) << r.describe();
}

TEST_P(Cgroups, DeniedDeviceCannotBeOpenedAllowedOneCan) {
  // /dev/fuse's numbers under another name: not in the default set.
  auto make = [&](bool allow) {
    auto b = bundle(allow ? "allowed" : "denied");
    b->spec["linux"]["devices"] = {{{"path", "/dev/myfuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}}};
    if (allow)
      b->spec["linux"]["resources"]["devices"].push_back(
          {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rw"}});
    b->sh("if true < /dev/myfuse; then echo opened; else echo refused; fi");
    return b;
  };
  auto denied = make(false);
  auto r = rt().run(unique_id("dev"), *denied);
  EXPECT_EQ(r.out, "refused\n") << r.describe();
  EXPECT_NE(r.err.find("not permitted"), std::string::npos) << r.describe();
  auto allowed = make(true);
  r = rt().run(unique_id("dev"), *allowed);
  EXPECT_EQ(r.out, "opened\n") << r.describe();
}

TEST_P(Cgroups, PauseFreezesResumeThaws) {
  auto b = bundle();
  const std::string cg = test_cgroup("pause");
  CgroupCleanup cleanup({cg});
  b->spec["linux"]["cgroupsPath"] = cg;
  b->sh("i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done");
  auto c = container();
  std::string err;
  ASSERT_GT(c->launch(*b, "sh", &err), 0) << err;
  const fs::path count = b->rootfs() / "tmp/count";
  ASSERT_TRUE(wait_for_file(count, 5s, true));
  auto p = rt().cmd({"pause", c->id()});
  ASSERT_TRUE(p.ok()) << p.describe();
  EXPECT_EQ(rt().status(c->id()), "paused");
  const std::string frozen_at = trimmed(count);
  // A running counter moves about 15 times in 300 ms; a frozen one never.
  EXPECT_FALSE(eventually([&] { return trimmed(count) != frozen_at; }, 300ms)) << "the counter moved while paused";
  auto r = rt().cmd({"resume", c->id()});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(rt().status(c->id()), "running");
  EXPECT_TRUE(eventually([&] { return trimmed(count) != frozen_at; })) << "the counter did not go on after resume";
  // crun 1.8.1 resumes a running container without complaint.
  if (!is("crun")) {
    EXPECT_FALSE(rt().cmd({"resume", c->id()}).ok()) << "resume of a running container must fail";
  }
}

TEST_P(Cgroups, UpdateChangesLiveLimits) {
  auto b = bundle();
  const std::string cg = test_cgroup("upd");
  CgroupCleanup cleanup({cg});
  b->spec["linux"]["cgroupsPath"] = cg;
  b->spec["linux"]["resources"]["pids"] = {{"limit", 50}};
  b->spec["linux"]["resources"]["cpu"] = {{"quota", 20000}, {"period", 100000}};
  b->args({"sleep", "60"});
  auto c = container();
  std::string err;
  ASSERT_GT(c->launch(*b, "sleep", &err), 0) << err;
  auto u = rt().cmd({"update", "--pids-limit", "20", "--cpu-quota", "30000", c->id()});
  ASSERT_TRUE(u.ok()) << u.describe();
  EXPECT_EQ(trimmed(cg_file(cg, "pids", "pids.max")), "20");
  if (v2_host()) {
    EXPECT_EQ(trimmed(cg_file(cg, "", "cpu.max")), "30000 100000");
  } else {
    EXPECT_EQ(trimmed(cg_file(cg, "cpu", "cpu.cfs_quota_us")), "30000");
  }
  // --resources FILE takes linux.resources as JSON.
  const fs::path res = tmp() / "res.json";
  write_file(res, R"({"pids": {"limit": 12}})");
  u = rt().cmd({"update", "--resources", res.string(), c->id()});
  ASSERT_TRUE(u.ok()) << u.describe();
  EXPECT_EQ(trimmed(cg_file(cg, "pids", "pids.max")), "12");
}

TEST_P(Cgroups, PsListsTheContainersProcesses) {
  auto b = bundle();
  b->sh("sleep 61 & exec sleep 60");
  auto c = container();
  std::string err;
  const pid_t pid = c->launch(*b, "sleep", &err);
  ASSERT_GT(pid, 0) << err;
  nlohmann::json pids;
  eventually([&] {  // the background sleep may still be starting
    auto r = rt().cmd({"ps", "--format", "json", c->id()});
    pids = r.ok() ? nlohmann::json::parse(r.out) : nlohmann::json();
    return pids.size() >= 2;
  });
  ASSERT_TRUE(pids.is_array());
  EXPECT_EQ(pids.size(), 2u) << pids.dump();
  EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end()) << pids.dump();
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1's ps prints the pids only, not runc's ps -ef table");
  auto t = rt().cmd({"ps", c->id()});
  ASSERT_TRUE(t.ok()) << t.describe();
  EXPECT_NE(t.out.find("PID"), std::string::npos) << t.describe();
  EXPECT_NE(t.out.find("sleep 61"), std::string::npos) << t.describe();
}

TEST_P(Cgroups, DeleteRemovesOnlyTheContainersCgroup) {
  auto b = bundle();
  const std::string parent = test_cgroup("parent");
  const std::string cg = parent + "/ctr";
  CgroupCleanup cleanup({cg, parent});
  b->spec["linux"]["cgroupsPath"] = cg;
  b->args({"sleep", "60"});
  auto c = container();
  std::string err;
  ASSERT_GT(c->launch(*b, "sleep", &err), 0) << err;
  EXPECT_TRUE(CgroupCleanup::any_exists(cg));
  auto d = rt().del(c->id(), true);
  ASSERT_TRUE(d.ok()) << d.describe();
  EXPECT_FALSE(CgroupCleanup::any_exists(cg)) << "delete left the container's cgroup";
  EXPECT_TRUE(CgroupCleanup::any_exists(parent)) << "delete removed a parent cgroup it did not own alone";
}

TEST_P(Cgroups, EventsStatsOneShot) {
  if (is("crun")) GTEST_SKIP() << "crun 1.8.1 has no events command";
  auto b = bundle();
  b->spec["linux"]["resources"]["pids"] = {{"limit", 40}};
  b->args({"sleep", "60"});
  auto c = container();
  std::string err;
  ASSERT_GT(c->launch(*b, "sleep", &err), 0) << err;
  auto r = rt().cmd({"events", "--stats", c->id()});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.value("type", ""), "stats");
  EXPECT_EQ(j.value("id", ""), c->id());
  EXPECT_GT(j["data"]["memory"]["usage"]["usage"].get<uint64_t>(), 0u) << r.out;
  EXPECT_EQ(j["data"]["pids"]["current"].get<uint64_t>(), 1u) << r.out;
  EXPECT_EQ(j["data"]["pids"]["limit"].get<uint64_t>(), 40u) << r.out;
  EXPECT_TRUE(j["data"]["cpu"]["usage"].contains("total")) << r.out;
}

TEST_P(Cgroups, SystemdCgroupsPathForm) {
  if (!is("crius-runtime")) GTEST_SKIP() << "without a running systemd, runc and crun need its D-Bus API for this form";
  auto b = bundle();
  const std::string id = unique_id("sd");
  b->spec["linux"]["cgroupsPath"] = "crius-test.slice:crius:" + id;
  b->args({"sleep", "60"});
  const std::string scope = "/crius.slice/crius-test.slice/crius-" + id + ".scope";
  CgroupCleanup cleanup({scope, "/crius.slice/crius-test.slice", "/crius.slice"});
  Container c(rt(), id);
  b->write();
  auto r = rt().cmd({"--systemd-cgroup", "create", "--bundle", b->dir().string(), id});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(CgroupCleanup::any_exists(scope)) << scope;
  ASSERT_TRUE(rt().del(id, true).ok());
  EXPECT_FALSE(CgroupCleanup::any_exists(scope));
}

}  // namespace
}  // namespace crius::testing::rt
