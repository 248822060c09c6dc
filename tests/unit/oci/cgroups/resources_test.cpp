// linux.resources parsing, its checks and the v1/v2 controller files it
// becomes; the v2 files written by the manager into a fake cgroupfs tree.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "oci/cgroups/cgroup.h"
#include "oci/cgroups/resources.h"

namespace crius::oci::cgroups {
namespace {

namespace fs = std::filesystem;
using J = nlohmann::json;

std::string value_of(const std::vector<Write>& ws, const std::string& file) {
  std::string out;
  for (const auto& w : ws)
    if (w.file == file) out += (out.empty() ? "" : "|") + w.value;
  return out;
}

std::string error_of(const J& j) {
  try {
    parse_resources(j);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    return e.what();
  }
  return "";
}

TEST(CgroupsResources, SharesToWeightAsRunc) {
  EXPECT_EQ(shares_to_weight(0), 0u);
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(blkio_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_to_io_weight(1000), 10000u);
  EXPECT_EQ(blkio_to_io_weight(500), 4950u);
}

TEST(CgroupsResources, SwapConversion) {
  EXPECT_EQ(swap_to_v2(-1, 100).value(), -1);
  EXPECT_EQ(swap_to_v2(0, -1).value(), -1);
  EXPECT_FALSE(swap_to_v2(0, 100).has_value());
  EXPECT_EQ(swap_to_v2(300, 100).value(), 200);
  EXPECT_THROW(swap_to_v2(300, 0), Error);
  EXPECT_THROW(swap_to_v2(50, 100), Error);
}

TEST(CgroupsResources, InvalidValuesNameTheKey) {
  EXPECT_NE(error_of({{"memory", {{"limit", -5}}}}).find("linux.resources.memory.limit: "), std::string::npos);
  EXPECT_NE(error_of({{"memory", {{"limit", "1G"}}}}).find("linux.resources.memory.limit: "), std::string::npos);
  EXPECT_NE(error_of({{"memory", {{"swappiness", 101}}}}).find("linux.resources.memory.swappiness"), std::string::npos);
  EXPECT_NE(error_of({{"memory", {{"limit", 200}, {"swap", 100}}}}).find("linux.resources.memory.swap"),
            std::string::npos);
  EXPECT_NE(error_of({{"cpu", {{"shares", 1}}}}).find("linux.resources.cpu.shares"), std::string::npos);
  EXPECT_NE(error_of({{"cpu", {{"period", 10}}}}).find("linux.resources.cpu.period"), std::string::npos);
  EXPECT_NE(error_of({{"cpu", {{"quota", -7}}}}).find("linux.resources.cpu.quota"), std::string::npos);
  EXPECT_NE(error_of({{"cpu", {{"cpus", "0-3;rm"}}}}).find("linux.resources.cpu.cpus"), std::string::npos);
  EXPECT_NE(error_of({{"cpu", {{"idle", 3}}}}).find("linux.resources.cpu.idle"), std::string::npos);
  EXPECT_NE(error_of({{"pids", J::object()}}).find("linux.resources.pids.limit"), std::string::npos);
  EXPECT_NE(error_of({{"blockIO", {{"weight", 5}}}}).find("linux.resources.blockIO.weight"), std::string::npos);
  EXPECT_NE(error_of({{"blockIO", {{"throttleReadBpsDevice", {{{"major", 8}, {"minor", 0}}}}}}})
                .find("linux.resources.blockIO.throttleReadBpsDevice[0].rate"),
            std::string::npos);
  EXPECT_NE(error_of({{"hugepageLimits", {{{"pageSize", "2XB"}, {"limit", 1}}}}})
                .find("linux.resources.hugepageLimits[0].pageSize"),
            std::string::npos);
  EXPECT_NE(error_of({{"devices", {{{"allow", true}, {"type", "x"}}}}}).find("linux.resources.devices[0].type"),
            std::string::npos);
  EXPECT_NE(error_of({{"devices", {{{"allow", true}, {"access", "rwx"}}}}}).find("linux.resources.devices[0].access"),
            std::string::npos);
  EXPECT_NE(error_of({{"unified", {{"../memory.max", "1"}}}}).find("linux.resources.unified.../memory.max"),
            std::string::npos);
  EXPECT_NE(error_of({{"unified", {{"cgroup.procs", "1"}}}}).find("linux.resources.unified.cgroup.procs"),
            std::string::npos);
  EXPECT_NE(error_of({{"network", {{"classID", -1}}}}).find("linux.resources.network.classID"), std::string::npos);
  EXPECT_EQ(error_of({{"memory", {{"limit", -1}}}, {"cpu", {{"shares", 0}}}}), "");
}

TEST(CgroupsResources, V2Writes) {
  const Resources r = parse_resources(J::parse(R"({
    "memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200, "kernel": 1},
    "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0", "idle": 1, "burst": 1000},
    "pids": {"limit": 32},
    "blockIO": {"weight": 500,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 1000}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
    "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
    "unified": {"memory.high": "90000000"}
  })"));
  std::vector<std::string> warn;
  const auto w = v2_writes(r, warn);
  EXPECT_EQ(value_of(w, "memory.max"), "104857600");
  EXPECT_EQ(value_of(w, "memory.low"), "52428800");
  EXPECT_EQ(value_of(w, "memory.swap.max"), "104857600");
  EXPECT_EQ(value_of(w, "cpu.weight"), "39");
  EXPECT_EQ(value_of(w, "cpu.max"), "50000 100000");
  EXPECT_EQ(value_of(w, "cpu.max.burst"), "1000");
  EXPECT_EQ(value_of(w, "cpu.idle"), "1");
  EXPECT_EQ(value_of(w, "cpuset.cpus"), "0-1");
  EXPECT_EQ(value_of(w, "cpuset.mems"), "0");
  EXPECT_EQ(value_of(w, "pids.max"), "32");
  EXPECT_EQ(value_of(w, "io.weight"), "4950|8:0 10000");
  EXPECT_EQ(value_of(w, "io.max"), "8:0 rbps=1048576|8:16 wiops=100");
  EXPECT_EQ(value_of(w, "hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(value_of(w, "rdma.max"), "mlx5_1 hca_handle=3 hca_object=10000");
  EXPECT_EQ(value_of(w, "memory.high"), "90000000");
  EXPECT_FALSE(warn.empty());  // kernel memory is ignored with a log line

  // With BFQ the weights go to io.bfq.weight unconverted.
  EXPECT_EQ(value_of(v2_writes(r, warn, true), "io.bfq.weight"), "500|8:0 1000");
  // Unlimited values.
  const auto u = v2_writes(parse_resources({{"memory", {{"limit", -1}}}, {"cpu", {{"quota", -1}}}, {"pids", {{"limit", -1}}}}), warn);
  EXPECT_EQ(value_of(u, "memory.max"), "max");
  EXPECT_EQ(value_of(u, "memory.swap.max"), "max");
  EXPECT_EQ(value_of(u, "cpu.max"), "max");
  EXPECT_EQ(value_of(u, "pids.max"), "max");
  // Realtime is v1 only.
  EXPECT_THROW(v2_writes(parse_resources({{"cpu", {{"realtimeRuntime", 1000}}}}), warn), Error);
}

TEST(CgroupsResources, V1WritesAndUnifiedRefused) {
  const Resources r = parse_resources(J::parse(R"({
    "memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200, "swappiness": 10, "disableOOMKiller": true},
    "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "realtimeRuntime": 950000, "realtimePeriod": 1000000},
    "pids": {"limit": 32},
    "blockIO": {"weight": 500, "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
    "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]}
  })"));
  std::vector<std::string> warn;
  const auto w = v1_writes(r, warn);
  EXPECT_EQ(value_of(w, "memory.limit_in_bytes"), "104857600");
  EXPECT_EQ(value_of(w, "memory.memsw.limit_in_bytes"), "209715200");
  EXPECT_EQ(value_of(w, "memory.soft_limit_in_bytes"), "52428800");
  EXPECT_EQ(value_of(w, "memory.swappiness"), "10");
  EXPECT_EQ(value_of(w, "memory.oom_control"), "1");
  EXPECT_EQ(value_of(w, "cpu.shares"), "1024");
  EXPECT_EQ(value_of(w, "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(value_of(w, "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(value_of(w, "cpu.rt_runtime_us"), "950000");
  EXPECT_EQ(value_of(w, "pids.max"), "32");
  EXPECT_EQ(value_of(w, "blkio.weight"), "500");
  EXPECT_EQ(value_of(w, "blkio.throttle.write_bps_device"), "8:0 1048576");
  EXPECT_EQ(value_of(w, "hugetlb.2MB.limit_in_bytes"), "4194304");
  EXPECT_EQ(value_of(w, "net_cls.classid"), "1048577");
  EXPECT_EQ(value_of(w, "net_prio.ifpriomap"), "eth0 5");
  // The period is written before the quota.
  size_t period = 0, quota = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i].file == "cpu.cfs_period_us") period = i;
    if (w[i].file == "cpu.cfs_quota_us") quota = i;
  }
  EXPECT_LT(period, quota);
  try {
    v1_writes(parse_resources({{"unified", {{"memory.high", "1"}}}}), warn);
    ADD_FAILURE() << "unified accepted on v1";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("linux.resources.unified"), std::string::npos);
  }
}

TEST(CgroupsResources, V1DeviceRules) {
  const Resources r = parse_resources(J::parse(R"({"devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
    {"allow": true, "type": "b", "major": 8, "access": "r"}]})"));
  const auto w = v1_device_writes(r.devices);
  ASSERT_GE(w.size(), 4u);
  EXPECT_EQ(w[0].file, "devices.deny");
  EXPECT_EQ(w[0].value, "a");
  EXPECT_EQ(value_of(w, "devices.allow").substr(0, 23), "c 10:229 rw|b 8:* r|c *");
  // The default set follows (null, zero, pts…).
  EXPECT_NE(value_of(w, "devices.allow").find("c 1:3 rwm"), std::string::npos);
  EXPECT_NE(value_of(w, "devices.allow").find("c 136:* rwm"), std::string::npos);
  // allow all: nothing denied, no defaults needed.
  const auto all = v1_device_writes(parse_resources(J::parse(R"({"devices": [{"allow": true, "access": "rwm"}]})")).devices);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].file, "devices.allow");
  EXPECT_EQ(all[0].value, "a");
}

// A fake v2 cgroup directory: the controller files exist, empty.
class FakeV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crius-cg-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "c");
    for (const char* f : {"memory.max", "memory.low", "memory.swap.max", "cpu.max", "cpu.weight", "cpuset.cpus",
                          "cpuset.mems", "pids.max", "io.weight", "hugetlb.2MB.max", "memory.high", "cgroup.procs",
                          "cgroup.freeze"})
      std::ofstream(dir_ / "c" / f).flush();
    std::ofstream(dir_ / "cgroup.controllers") << "cpuset cpu io memory hugetlb pids\n";
    std::ofstream(dir_ / "cgroup.subtree_control").flush();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const std::string& f) {
    std::ifstream in(dir_ / "c" / f);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  Cgroup manager() {
    Paths p;
    p.mode = Mode::v2;
    p.unified = (dir_ / "c").string();
    return Cgroup(p);
  }
  fs::path dir_;
};

TEST_F(FakeV2, CgroupWritesTheControllerFiles) {
  const Resources r = parse_resources(J::parse(R"({
    "memory": {"limit": 104857600, "reservation": 1048576, "swap": 209715200},
    "cpu": {"shares": 2048, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 64}, "blockIO": {"weight": 1000},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
    "unified": {"memory.high": "50000000"}})"));
  manager().apply(r, /*update=*/true);  // update: no device filter (needs a real cgroup)
  EXPECT_EQ(read("memory.max"), "104857600");
  EXPECT_EQ(read("memory.low"), "1048576");
  EXPECT_EQ(read("memory.swap.max"), "104857600");
  EXPECT_EQ(read("cpu.max"), "20000 100000");
  EXPECT_EQ(read("cpu.weight"), "79");
  EXPECT_EQ(read("cpuset.cpus"), "0");
  EXPECT_EQ(read("cpuset.mems"), "0");
  EXPECT_EQ(read("pids.max"), "64");
  EXPECT_EQ(read("io.weight"), "10000");
  EXPECT_EQ(read("hugetlb.2MB.max"), "2097152");
  EXPECT_EQ(read("memory.high"), "50000000");
}

TEST_F(FakeV2, MissingControllerFileIsReported) {
  fs::remove(dir_ / "c" / "pids.max");
  try {
    manager().apply(parse_resources({{"pids", {{"limit", 5}}}}), true);
    ADD_FAILURE() << "no error for a missing pids.max";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
    EXPECT_NE(std::string(e.what()).find("pids.max"), std::string::npos) << e.what();
  }
}

TEST_F(FakeV2, CreateEnablesControllersInTheParent) {
  Paths p;
  p.mode = Mode::v2;
  p.unified = (dir_ / "new").string();
  Cgroup(p).create();
  EXPECT_TRUE(fs::is_directory(dir_ / "new"));
  // A regular file takes the last write only: the last controller enabled.
  std::ifstream in(dir_ / "cgroup.subtree_control");
  std::string v(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(v.substr(0, 1), "+") << v;
  fs::remove(dir_ / "new");
}

}  // namespace
}  // namespace crius::oci::cgroups
