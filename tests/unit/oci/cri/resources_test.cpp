// Resources, oom_score_adj, cgroupsPath, annotations and the log path.
#include "tests/unit/oci/cri/cri_spec_fixture.h"

#include <csignal>  // after the proto header (its Signal enum)

namespace crius::oci::cri::testing {
namespace {

using CriSpecResources = CriSpecTest;

TEST_F(CriSpecResources, CpuMemoryHugepagesUnified) {
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_cpu_period(100000);
  r->set_cpu_quota(50000);
  r->set_cpu_shares(512);
  r->set_cpuset_cpus("0-1");
  r->set_cpuset_mems("0");
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_memory_swap_limit_in_bytes(128 << 20);
  auto* h = r->add_hugepage_limits();
  h->set_page_size("2MB");
  h->set_limit(4 << 20);
  (*r->mutable_unified())["memory.high"] = "50000000";
  auto res = build().spec["linux"]["resources"];
  EXPECT_EQ(res["cpu"], json({{"shares", 512}, {"quota", 50000}, {"period", 100000}, {"cpus", "0-1"}, {"mems", "0"}}));
  EXPECT_EQ(res["memory"], json({{"limit", 64 << 20}, {"swap", 128 << 20}}));
  EXPECT_EQ(res["hugepageLimits"], json::parse(R"([{"pageSize":"2MB","limit":4194304}])"));
  EXPECT_EQ(res["unified"]["memory.high"], "50000000");
  EXPECT_FALSE(res.contains("pids"));
  EXPECT_EQ(linux_resources(*r)["cpu"]["shares"], 512) << "the update form";
  EXPECT_FALSE(linux_resources(*r).contains("devices"));
}

TEST_F(CriSpecResources, UnsetValuesAreLeftOut) {
  auto res = build().spec["linux"]["resources"];
  EXPECT_FALSE(res.contains("cpu"));
  EXPECT_FALSE(res.contains("memory"));
  EXPECT_TRUE(res.contains("devices"));
}

TEST_F(CriSpecResources, SwapBelowMemoryAndBadUnifiedKeysAreRefused) {
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_memory_limit_in_bytes(100 << 20);
  r->set_memory_swap_limit_in_bytes(50 << 20);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  r->set_memory_swap_limit_in_bytes(0);
  (*r->mutable_unified())["../../escape"] = "1";
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecResources, PidsLimitFromDefaults) {
  defaults_.pids_limit = 1024;
  EXPECT_EQ(build().spec["linux"]["resources"]["pids"]["limit"], 1024);
  defaults_.pids_limit = -1;
  EXPECT_FALSE(build().spec["linux"]["resources"].contains("pids"));
}

TEST_F(CriSpecResources, OomScoreAdjClampedWhenLoweringIsNotAllowed) {
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(-997);
  defaults_.daemon_oom_score_adj = -500;
  EXPECT_EQ(build().spec["process"]["oomScoreAdj"], -500);
  defaults_.oom_score_adj_can_lower = true;
  EXPECT_EQ(build().spec["process"]["oomScoreAdj"], -997);
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(1000);
  EXPECT_EQ(build().spec["process"]["oomScoreAdj"], 1000);
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(1001);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecResources, CgroupsPathPerDriver) {
  auto b = build();
  EXPECT_EQ(b.cgroups_path, "/kubepods/besteffort/poduid-123/crius-ctrid");
  EXPECT_EQ(b.spec["linux"]["cgroupsPath"], b.cgroups_path);
  defaults_.cgroup_driver = "systemd";
  pod_.cgroup_parent = "kubepods-besteffort-poduid_123.slice";
  EXPECT_EQ(build().cgroups_path, "kubepods-besteffort-poduid_123.slice:crius:ctrid");
  pod_.cgroup_parent = "/kubepods/x";
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecResources, Annotations) {
  (*config_.mutable_annotations())["custom"] = "v";
  auto a = build().spec["annotations"];
  EXPECT_EQ(a["custom"], "v");
  EXPECT_EQ(a["io.kubernetes.cri.container-type"], "container");
  EXPECT_EQ(a["io.kubernetes.cri.container-name"], "web");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-id"], "podid");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-name"], "pod-a");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-namespace"], "default");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-uid"], "uid-123");
  EXPECT_EQ(a["io.kubernetes.cri.image-name"], "docker.io/library/busybox:latest");
}

TEST_F(CriSpecResources, LogPath) {
  EXPECT_EQ(build().log_path, "/var/log/pods/default_pod-a_uid-123/web/0.log");
  config_.set_log_path("/abs.log");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  config_.set_log_path("../escape.log");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  config_.clear_log_path();
  EXPECT_EQ(build().log_path, "");
  config_.set_log_path("web/0.log");
  pod_config_.clear_log_directory();
  EXPECT_EQ(build().log_path, "");
}

TEST_F(CriSpecResources, SignalNames) {
  EXPECT_EQ(detail::signal_number("SIGKILL", "x"), 9);
  EXPECT_EQ(detail::signal_number("hup", "x"), 1);
  EXPECT_EQ(detail::signal_number("SIGRTMIN+1", "x"), SIGRTMIN + 1);
  EXPECT_THROW(detail::signal_number("0", "x"), crius::Error);
}

}  // namespace
}  // namespace crius::oci::cri::testing
