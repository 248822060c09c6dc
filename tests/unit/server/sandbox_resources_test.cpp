// UpdatePodSandboxResources as kubelet sends it after a resize: `resources`
// without the overhead and `overhead` apart. The pod cgroup gets both added
// up; refusals name the message and field that is wrong.
#include "server/sandbox_resources.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace crius::server {
namespace {

namespace v1 = ::runtime::v1;

// A pod of 1.5 CPU / 256 MiB limits (shares from its 0.5 CPU request) and a
// RuntimeClass overhead of 0.25 CPU / 64 MiB, as kubelet converts them.
v1::UpdatePodSandboxResourcesRequest resize() {
  v1::UpdatePodSandboxResourcesRequest req;
  req.set_pod_sandbox_id("abc");
  auto* r = req.mutable_resources();
  r->set_cpu_period(100000);
  r->set_cpu_quota(150000);
  r->set_cpu_shares(512);
  r->set_memory_limit_in_bytes(256 << 20);
  auto* o = req.mutable_overhead();
  o->set_cpu_period(100000);
  o->set_cpu_quota(25000);
  o->set_cpu_shares(256);
  o->set_memory_limit_in_bytes(64 << 20);
  return req;
}

std::string refusal(const v1::UpdatePodSandboxResourcesRequest& req) {
  try {
    validate(req);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    return e.what();
  }
  return "";
}

TEST(PodSandboxResources, TheCgroupHoldsResourcesPlusOverhead) {
  const auto c = pod_cgroup_resources(resize());
  EXPECT_EQ(c.memory_limit_in_bytes(), 320 << 20);
  EXPECT_EQ(c.cpu_quota(), 175000);
  EXPECT_EQ(c.cpu_period(), 100000);
  EXPECT_EQ(c.cpu_shares(), 768);
}

TEST(PodSandboxResources, OverheadQuotaIsScaledToThePodsPeriod) {
  auto req = resize();
  req.mutable_resources()->set_cpu_period(50000);
  req.mutable_resources()->set_cpu_quota(75000);
  EXPECT_EQ(pod_cgroup_resources(req).cpu_quota(), 75000 + 12500);
}

TEST(PodSandboxResources, AnOverheadAloneSetsNoLimit) {
  auto req = resize();
  req.mutable_resources()->set_memory_limit_in_bytes(0);  // a container without a memory limit
  req.mutable_resources()->set_cpu_quota(-1);             // nor a CPU limit
  const auto c = pod_cgroup_resources(req);
  EXPECT_EQ(c.memory_limit_in_bytes(), 0);
  EXPECT_EQ(c.cpu_quota(), -1);
  EXPECT_EQ(c.cpu_shares(), 768) << "the request still counts";
}

TEST(PodSandboxResources, WithoutOverheadTheResourcesAreTakenAsTheyAre) {
  auto req = resize();
  req.clear_overhead();
  req.mutable_resources()->set_oom_score_adj(300);
  req.mutable_resources()->set_memory_swap_limit_in_bytes(512 << 20);
  const auto c = pod_cgroup_resources(req);
  EXPECT_EQ(c.memory_limit_in_bytes(), 256 << 20);
  EXPECT_EQ(c.memory_swap_limit_in_bytes(), 512 << 20);
  EXPECT_EQ(c.cpu_quota(), 150000);
  EXPECT_EQ(c.cpu_shares(), 512);
  EXPECT_EQ(c.oom_score_adj(), 0) << "a process setting; the pod cgroup has none";
  EXPECT_TRUE(refusal(req).empty()) << refusal(req);
}

TEST(PodSandboxResources, SwapGrowsWithTheMemoryItIncludes) {
  auto req = resize();
  req.mutable_resources()->set_memory_swap_limit_in_bytes(512 << 20);
  EXPECT_EQ(pod_cgroup_resources(req).memory_swap_limit_in_bytes(), 576 << 20);
}

TEST(PodSandboxResources, RefusalsNameTheMessageAndField) {
  EXPECT_TRUE(refusal(resize()).empty()) << refusal(resize());
  auto req = resize();
  req.mutable_overhead()->set_memory_limit_in_bytes(-5);
  EXPECT_EQ(refusal(req).rfind("overhead.memory_limit_in_bytes", 0), 0u) << refusal(req);
  req = resize();
  req.mutable_resources()->set_cpu_shares(-1);
  EXPECT_EQ(refusal(req).rfind("resources.cpu_shares", 0), 0u) << refusal(req);
  req = resize();
  req.mutable_resources()->set_cpu_quota(-7);
  EXPECT_EQ(refusal(req).rfind("resources.cpu_quota", 0), 0u) << refusal(req);
  req = resize();
  (*req.mutable_overhead()->mutable_unified())["../escape"] = "1";
  EXPECT_EQ(refusal(req).rfind("overhead.unified", 0), 0u) << refusal(req);
  req = resize();
  req.mutable_resources()->set_memory_swap_limit_in_bytes(1 << 20);
  EXPECT_EQ(refusal(req).rfind("resources.memory_swap_limit_in_bytes", 0), 0u) << refusal(req);
  req = resize();
  req.clear_overhead();
  req.clear_resources();
  EXPECT_NE(refusal(req).find("neither overhead nor resources"), std::string::npos) << refusal(req);
}

TEST(PodSandboxResources, TheRecordKeepsWhatWasSent) {
  auto req = resize();
  auto j = requested_resources(req);
  EXPECT_EQ(j["resources"]["memory_limit_in_bytes"], std::to_string(256 << 20)) << "proto JSON: int64 as a string";
  EXPECT_EQ(j["overhead"]["cpu_quota"], "25000");
  req.clear_overhead();
  EXPECT_FALSE(requested_resources(req).contains("overhead"));
}

}  // namespace
}  // namespace crius::server
