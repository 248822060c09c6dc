// cgroupsPath resolution (cgroupfs and systemd forms), hierarchy detection,
// and the stats reader on fake v1 and v2 trees.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/path.h"
#include "oci/cgroups/stats.h"

namespace crius::oci::cgroups {
namespace {

namespace fs = std::filesystem;

TEST(CgroupsPath, SystemdSliceExpansion) {
  EXPECT_EQ(expand_slice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
  EXPECT_EQ(expand_slice("system.slice"), "/system.slice");
  EXPECT_EQ(expand_slice("-.slice"), "/");
  EXPECT_THROW(expand_slice("a--b.slice"), Error);
  EXPECT_THROW(expand_slice("-a.slice"), Error);
  EXPECT_THROW(expand_slice("a/b.slice"), Error);
  EXPECT_THROW(expand_slice("a.scope"), Error);
  EXPECT_EQ(systemd_path("kubepods-burstable-pod12.slice:cri-o:abc"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-o-abc.scope");
  EXPECT_EQ(systemd_path(":crius:x"), "/system.slice/crius-x.scope");
  EXPECT_EQ(systemd_path("-.slice:p:x"), "/p-x.scope");
  EXPECT_EQ(systemd_path("system.slice:p:my-a.slice"), "/my.slice/my-a.slice");
  try {
    systemd_path("/kubepods/pod1/c1");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("linux.cgroupsPath"), std::string::npos);
  }
}

TEST(CgroupsPath, CgroupfsPaths) {
  EXPECT_EQ(clean_path("/a/../../b/./c/"), "/b/c");
  EXPECT_EQ(clean_path("../../x"), "x");
  EXPECT_EQ(container_cgroup_path("", false, "id1"), "id1");
  EXPECT_EQ(container_cgroup_path("/kubepods/pod1/c1", false, "c1"), "/kubepods/pod1/c1");
  EXPECT_EQ(container_cgroup_path("", true, "c1"), "/system.slice/crius-c1.scope");
  EXPECT_THROW(container_cgroup_path("/..", false, "c1"), Error);
}

const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupsHierarchy, DetectsModes) {
  Hierarchy h = Hierarchy::parse_mountinfo(kHybridMountinfo);
  EXPECT_EQ(h.mode, Mode::hybrid);
  EXPECT_EQ(h.unified, "/sys/fs/cgroup/unified");
  EXPECT_EQ(h.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(h.v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(h.v1.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(Hierarchy::parse_mountinfo("25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n").mode, Mode::v2);
  EXPECT_EQ(Hierarchy::parse_mountinfo("34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n").mode,
            Mode::v1);

  const auto own = parse_proc_cgroup("4:memory:/user/x\n2:cpu,cpuacct:/user\n0::/svc/a\n");
  EXPECT_EQ(own.at("memory"), "/user/x");
  EXPECT_EQ(own.at("cpuacct"), "/user");
  EXPECT_EQ(own.at(""), "/svc/a");
  // Relative: under our own cgroup on v1, beside it on v2; absolute: at the roots.
  Paths rel = resolve(h, "c1", own);
  EXPECT_EQ(rel.v1.at("memory"), "/sys/fs/cgroup/memory/user/x/c1");
  EXPECT_EQ(rel.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct/user/c1");
  EXPECT_EQ(rel.unified, "/sys/fs/cgroup/unified/svc/c1");
  Paths abs = resolve(h, "/pods/c1", own);
  EXPECT_EQ(abs.v1.at("memory"), "/sys/fs/cgroup/memory/pods/c1");
  EXPECT_EQ(abs.unified, "/sys/fs/cgroup/unified/pods/c1");
  EXPECT_EQ(Paths::from_json(abs.to_json()).v1, abs.v1);
  EXPECT_EQ(Paths::from_json(abs.to_json()).mode, Mode::hybrid);
}

class FakeStats : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crius-cgstats-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  fs::path dir_;
};

TEST_F(FakeStats, V2) {
  put("c/cpu.stat", "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 7\nnr_throttled 2\nthrottled_usec 40\n");
  put("c/memory.current", "10485760\n");
  put("c/memory.max", "max\n");
  put("c/memory.stat", "anon 4096000\nfile 2000000\ninactive_file 1048576\npgfault 77\npgmajfault 3\n");
  put("c/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\n");
  put("c/pids.current", "4\n");
  put("c/pids.max", "100\n");
  put("c/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=3 wios=4\n");
  put("c/hugetlb.2MB.current", "2097152\n");
  put("c/hugetlb.2MB.events", "max 3\n");
  Paths p;
  p.mode = Mode::v2;
  p.unified = (dir_ / "c").string();
  const Stats s = read_stats(p);
  EXPECT_EQ(s.cpu.total_ns, 3000000u);
  EXPECT_EQ(s.cpu.user_ns, 2000000u);
  EXPECT_EQ(s.cpu.system_ns, 1000000u);
  EXPECT_EQ(s.cpu.throttled_periods, 2u);
  EXPECT_EQ(s.memory.usage, 10485760u);
  EXPECT_EQ(s.memory.limit, 0u);
  EXPECT_EQ(s.memory.working_set, 10485760u - 1048576u);
  EXPECT_EQ(s.memory.rss, 4096000u);
  EXPECT_EQ(s.memory.pgfault, 77u);
  EXPECT_EQ(s.memory.pgmajfault, 3u);
  EXPECT_EQ(s.memory.oom_events, 2u);
  EXPECT_EQ(s.memory.oom_kill, 1u);
  EXPECT_EQ(s.pids.current, 4u);
  EXPECT_EQ(s.pids.limit, 100u);
  EXPECT_EQ(s.io.read_bytes, 101u);
  EXPECT_EQ(s.io.write_bytes, 202u);
  EXPECT_EQ(s.io.read_ops, 4u);
  EXPECT_EQ(s.io.write_ops, 6u);
  EXPECT_EQ(s.hugetlb.at("2MB").usage, 2097152u);
  EXPECT_EQ(s.hugetlb.at("2MB").failcnt, 3u);
  const auto j = s.to_runc_json();
  EXPECT_EQ(j["cpu"]["usage"]["total"], 3000000u);
  EXPECT_EQ(j["memory"]["usage"]["usage"], 10485760u);
  EXPECT_EQ(j["pids"]["current"], 4u);
  EXPECT_EQ(j["blkio"]["ioServiceBytesRecursive"].size(), 4u);
  EXPECT_EQ(j["hugetlb"]["2MB"]["usage"], 2097152u);
}

TEST_F(FakeStats, V1) {
  put("cpuacct/c/cpuacct.usage", "5000\n");
  put("cpuacct/c/cpuacct.usage_user", "3000\n");
  put("cpuacct/c/cpuacct.usage_sys", "2000\n");
  put("cpuacct/c/cpuacct.usage_percpu", "4000 1000 \n");
  put("memory/c/memory.usage_in_bytes", "8388608\n");
  put("memory/c/memory.limit_in_bytes", "9223372036854771712\n");
  put("memory/c/memory.max_usage_in_bytes", "9000000\n");
  put("memory/c/memory.stat", "rss 1\ntotal_rss 4096\ntotal_cache 8192\ntotal_inactive_file 4194304\n"
                              "total_pgfault 11\ntotal_pgmajfault 1\n");
  put("memory/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  put("pids/c/pids.current", "2\n");
  put("pids/c/pids.max", "max\n");
  put("blkio/c/blkio.throttle.io_service_bytes_recursive", "8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\nTotal 30\n");
  put("blkio/c/blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
  put("hugetlb/c/hugetlb.1GB.usage_in_bytes", "0\n");
  Paths p;
  p.mode = Mode::v1;
  for (const char* c : {"cpuacct", "memory", "pids", "blkio", "hugetlb"}) p.v1[c] = (dir_ / c / "c").string();
  const Stats s = read_stats(p);
  EXPECT_EQ(s.cpu.total_ns, 5000u);
  EXPECT_EQ(s.cpu.user_ns, 3000u);
  EXPECT_EQ(s.cpu.system_ns, 2000u);
  EXPECT_EQ(s.cpu.per_cpu_ns, (std::vector<uint64_t>{4000, 1000}));
  EXPECT_EQ(s.memory.usage, 8388608u);
  EXPECT_EQ(s.memory.limit, 0u);  // "unlimited"
  EXPECT_EQ(s.memory.working_set, 8388608u - 4194304u);
  EXPECT_EQ(s.memory.rss, 4096u);
  EXPECT_EQ(s.memory.pgfault, 11u);
  EXPECT_EQ(s.memory.oom_kill, 3u);
  EXPECT_EQ(s.pids.current, 2u);
  EXPECT_EQ(s.pids.limit, 0u);
  EXPECT_EQ(s.io.read_bytes, 10u);
  EXPECT_EQ(s.io.write_bytes, 20u);
  EXPECT_EQ(s.io.read_ops, 1u);
  EXPECT_EQ(s.io.write_ops, 2u);
  EXPECT_EQ(s.hugetlb.count("1GB"), 1u);
}

TEST_F(FakeStats, PressureAndSwapLimits) {
  put("c/cpu.pressure", "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
  put("c/memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  put("c/memory.swap.max", "1048576\n");
  put("c/memory.swap.current", "4096\n");
  Paths p;
  p.mode = Mode::v2;
  p.unified = (dir_ / "c").string();
  Stats s = read_stats(p);
  ASSERT_TRUE(s.cpu_psi);
  EXPECT_EQ(s.cpu_psi->some.total_us, 123456u);
  EXPECT_DOUBLE_EQ(s.cpu_psi->some.avg10, 1.5);
  EXPECT_DOUBLE_EQ(s.cpu_psi->some.avg60, 0.25);
  EXPECT_EQ(s.cpu_psi->full.total_us, 7u);
  ASSERT_TRUE(s.memory_psi);
  EXPECT_FALSE(s.io_psi) << "no io.pressure file, no figures";
  EXPECT_EQ(s.memory.swap_limit, 1048576u);
  EXPECT_EQ(s.memory.swap, 4096u);

  // v1: the swap limit is memsw's less memory's; a v1-only host has no PSI.
  put("memory/c/memory.limit_in_bytes", "1048576\n");
  put("memory/c/memory.memsw.limit_in_bytes", "3145728\n");
  Paths v1;
  v1.mode = Mode::v1;
  v1.v1["memory"] = (dir_ / "memory" / "c").string();
  s = read_stats(v1);
  EXPECT_EQ(s.memory.swap_limit, 2097152u);
  EXPECT_FALSE(s.cpu_psi);
  put("memory/c/memory.memsw.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(read_stats(v1).memory.swap_limit, 0u) << "unlimited";
}

}  // namespace
}  // namespace crius::oci::cgroups
