// The CRI stats RPCs as kubelet's CRI stats provider calls them: a
// container's CPU, memory and writable layer; a pod's cgroup, process count
// and network counters; filters; what an exited or removed container answers.
// Run for the builtin handler and runc, which place cgroups themselves.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/e2e/net_helpers.h"
#include "tests/support/eventually.h"
//
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = 1024 * 1024;

// A pod on the test network for `handler`, optionally under a cgroup parent.
std::string run_pod_on(ContainerEnv& env, const std::string& name, const std::string& handler,
                       const std::string& cgroup_parent = "") {
  auto pc = pod_config(name);
  pc.set_log_directory(env.daemon.dir() / ("logs/" + name));
  if (!cgroup_parent.empty()) pc.mutable_linux()->set_cgroup_parent(cgroup_parent);
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = pc;
  req.set_runtime_handler(handler);
  v1::RunPodSandboxResponse res;
  auto s = env.daemon.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res);
  if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message());
  env.pods[res.pod_sandbox_id()] = pc;
  return res.pod_sandbox_id();
}

// One RuntimeService call; a failure is a test failure unless `status` takes it.
template <class Req, class Res>
Res call(Daemon& d, grpc::Status (v1::RuntimeService::Stub::*rpc)(grpc::ClientContext*, const Req&, Res*),
         const Req& req, grpc::Status* status = nullptr) {
  Res res;
  auto stub = d.runtime();
  auto s = ((*stub).*rpc)(deadline_ctx().get(), req, &res);
  if (status) *status = s;
  else EXPECT_TRUE(s.ok()) << s.error_message();
  return res;
}

v1::ContainerStats container_stats(Daemon& d, const std::string& id, grpc::Status* status = nullptr) {
  v1::ContainerStatsRequest req;
  req.set_container_id(id);
  return call(d, &v1::RuntimeService::Stub::ContainerStats, req, status).stats();
}

v1::PodSandboxStats pod_stats(Daemon& d, const std::string& id, grpc::Status* status = nullptr) {
  v1::PodSandboxStatsRequest req;
  req.set_pod_sandbox_id(id);
  return call(d, &v1::RuntimeService::Stub::PodSandboxStats, req, status).stats();
}

// The IDs in a List*Stats answer, sorted.
template <class Stats>
std::vector<std::string> ids_of(const google::protobuf::RepeatedPtrField<Stats>& stats) {
  std::vector<std::string> ids;
  for (const auto& st : stats) ids.push_back(st.attributes().id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> list_container_stats(Daemon& d, const v1::ContainerStatsFilter* filter) {
  v1::ListContainerStatsRequest req;
  if (filter) *req.mutable_filter() = *filter;
  return ids_of(call(d, &v1::RuntimeService::Stub::ListContainerStats, req).stats());
}

std::vector<std::string> list_pod_stats(Daemon& d, const v1::PodSandboxStatsFilter* filter) {
  v1::ListPodSandboxStatsRequest req;
  if (filter) *req.mutable_filter() = *filter;
  return ids_of(call(d, &v1::RuntimeService::Stub::ListPodSandboxStats, req).stats());
}

class Stats : public ::testing::TestWithParam<std::string> {};

TEST_P(Stats, MemoryCpuProcessesAndWritableLayer) {
  ContainerEnv env({"--cgroup-driver", "cgroupfs"});
  const std::string parent = "/crius-test-" + env.net.bridge + "/stats";
  const std::string pod = run_pod_on(env, "stats-" + GetParam(), GetParam(), parent);
  // 40 MiB in the pod's /dev/shm (tmpfs pages are charged to the writer's
  // cgroup and are not reclaimable file cache), then a busy loop.
  const std::string id = env.create(
      pod, container_config("busy", env.image,
                            {"sh", "-c", "dd if=/dev/zero of=/dev/shm/blob bs=1048576 count=40; while :; do :; done"}));
  v1::ContainerStats s;
  crius::testing::eventually([&] {
    s = container_stats(env.daemon, id);
    return s.memory().working_set_bytes().value() >= 40 * kMiB;
  });
  EXPECT_EQ(s.attributes().id(), id);
  EXPECT_EQ(s.attributes().metadata().name(), "busy");
  EXPECT_EQ(s.attributes().labels().at("container"), "busy");
  EXPECT_GE(s.memory().working_set_bytes().value(), 40 * kMiB);
  EXPECT_GE(s.memory().usage_bytes().value(), s.memory().working_set_bytes().value());
  EXPECT_GT(s.memory().page_faults().value(), 0u);
  EXPECT_GT(s.memory().timestamp(), 0);

  const auto first = container_stats(env.daemon, id);
  v1::ContainerStats second;
  crius::testing::eventually([&] {
    second = container_stats(env.daemon, id);
    return second.cpu().usage_core_nano_seconds().value() > first.cpu().usage_core_nano_seconds().value();
  });
  EXPECT_GT(second.cpu().usage_core_nano_seconds().value(), first.cpu().usage_core_nano_seconds().value());
  EXPECT_GT(second.cpu().timestamp(), first.cpu().timestamp());
  ASSERT_TRUE(second.cpu().has_usage_nano_cores());
  EXPECT_GT(second.cpu().usage_nano_cores().value(), 0u);

  // Pressure, where the host has cgroup2 with PSI (this one's hybrid
  // hierarchy has): present, totals only grow, averages are percentages.
  if (fs::exists("/proc/pressure/cpu") &&
      (fs::exists("/sys/fs/cgroup/unified") || fs::exists("/sys/fs/cgroup/cgroup.controllers"))) {
    ASSERT_TRUE(first.cpu().has_psi() && second.cpu().has_psi());
    EXPECT_GE(second.cpu().psi().some().total(), first.cpu().psi().some().total());
    EXPECT_LE(second.cpu().psi().some().avg10(), 100.0);
    EXPECT_TRUE(second.memory().has_psi());
    ASSERT_TRUE(second.has_io());
    EXPECT_TRUE(second.io().has_psi());
    EXPECT_GT(second.io().timestamp(), 0);
    EXPECT_FALSE(second.swap().has_swap_available_bytes()) << "no swap limit was set";
  }

  // The writable layer grows by what the container writes to its root.
  const auto before = container_stats(env.daemon, id).writable_layer();
  EXPECT_FALSE(before.fs_id().mountpoint().empty());
  auto ex = exec_sync(env.daemon, id, {"dd", "if=/dev/zero", "of=/written", "bs=1048576", "count=8"});
  ASSERT_TRUE(ex.status.ok() && ex.exit_code == 0) << ex.status.error_message() << ex.err;
  const auto after = container_stats(env.daemon, id).writable_layer();
  EXPECT_GE(after.used_bytes().value(), before.used_bytes().value() + 8 * kMiB);
  EXPECT_GT(after.inodes_used().value(), before.inodes_used().value());

  // The pod's figures come from its cgroup, which holds the container's.
  const auto p = pod_stats(env.daemon, pod);
  EXPECT_EQ(p.attributes().id(), pod);
  EXPECT_EQ(p.attributes().labels().at("app"), "stats-" + GetParam());
  EXPECT_GE(p.linux().memory().working_set_bytes().value(), 40 * kMiB);
  EXPECT_GE(p.linux().cpu().usage_core_nano_seconds().value(), second.cpu().usage_core_nano_seconds().value());
  EXPECT_GE(p.linux().process().process_count().value(), 1u);
  ASSERT_EQ(p.linux().containers_size(), 1);
  EXPECT_EQ(p.linux().containers(0).attributes().id(), id);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Stats, Stats, ::testing::Values("crius", "runc"));

v1::ContainerStats listed_container(Daemon& d, const std::string& id) {
  v1::ListContainerStatsRequest req;
  req.mutable_filter()->set_id(id);
  const auto res = call(d, &v1::RuntimeService::Stub::ListContainerStats, req);
  return res.stats_size() == 1 ? res.stats(0) : v1::ContainerStats{};
}

v1::PodSandboxStats listed_pod(Daemon& d, const std::string& id) {
  v1::ListPodSandboxStatsRequest req;
  req.mutable_filter()->set_id(id);
  const auto res = call(d, &v1::RuntimeService::Stub::ListPodSandboxStats, req);
  return res.stats_size() == 1 ? res.stats(0) : v1::PodSandboxStats{};
}

// crictl stats and statsp list twice, a second apart, and fail ("cpu stat is
// not updated during sample") unless the CPU sample moved; the writable
// layer, walked in the background, still shows a write within two periods.
TEST(Stats, ListsASecondApartAsCrictlDoesWithTheDefaultConfig) {
  ContainerEnv env;
  const std::string pod = env.run_pod("stats-crictl");
  const std::string id = env.create(pod, container_config("busy", env.image, {"sh", "-c", "while :; do :; done"}));
  const auto c1 = listed_container(env.daemon, id);
  const auto p1 = listed_pod(env.daemon, pod);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // crictl's sample interval
  const auto c2 = listed_container(env.daemon, id);
  const auto p2 = listed_pod(env.daemon, pod);
  EXPECT_GT(c2.cpu().timestamp(), c1.cpu().timestamp());
  EXPECT_GT(c2.cpu().usage_core_nano_seconds().value(), c1.cpu().usage_core_nano_seconds().value());
  EXPECT_GT(p2.linux().cpu().timestamp(), p1.linux().cpu().timestamp());
  EXPECT_GT(p2.linux().cpu().usage_core_nano_seconds().value(), p1.linux().cpu().usage_core_nano_seconds().value());
  ASSERT_EQ(p2.linux().containers_size(), 1);
  EXPECT_GT(p2.linux().containers(0).cpu().timestamp(), p1.linux().containers(0).cpu().timestamp());

  const uint64_t before = c2.writable_layer().used_bytes().value();
  EXPECT_FALSE(c2.writable_layer().fs_id().mountpoint().empty());
  auto ex = exec_sync(env.daemon, id, {"dd", "if=/dev/zero", "of=/written", "bs=1048576", "count=8"});
  ASSERT_TRUE(ex.status.ok() && ex.exit_code == 0) << ex.status.error_message() << ex.err;
  EXPECT_TRUE(crius::testing::eventually(
      [&] { return listed_container(env.daemon, id).writable_layer().used_bytes().value() >= before + 8 * kMiB; },
      std::chrono::seconds(30)))
      << "the listed writable layer stayed near " << before;
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

// Sends `count` UDP datagrams of `size` bytes to `ip`:9 (discard) from the
// network namespace pinned at `netns`.
void send_udp_from(const std::string& netns, const std::string& ip, int count, size_t size) {
  in_namespace(netns, CLONE_NEWNET, [&] { send_udp(ip, count, size); });
}

TEST(Stats, PodNetworkFiltersAndWhatIsLeftOfAContainer) {
  ContainerEnv env;
  const std::string a = env.run_pod("stats-a"), b = env.run_pod("stats-b");
  const std::string a1 = env.create(a, container_config("a1", env.image, {"sleep", "3600"}));
  const std::string b1 = env.create(b, container_config("b1", env.image, {"sleep", "3600"}));

  // Network: the pod's eth0 counts what leaves its namespace.
  const auto n0 = pod_stats(env.daemon, a).linux().network();
  EXPECT_EQ(n0.default_interface().name(), "eth0");
  send_udp_from(pod_info(env.daemon, a)["namespaces"]["net"].get<std::string>(), env.net.gateway(), 20, 1000);
  const auto p = pod_stats(env.daemon, a);
  const auto& n1 = p.linux().network();
  EXPECT_GE(n1.default_interface().tx_bytes().value(), n0.default_interface().tx_bytes().value() + 20 * 1000);
  EXPECT_GT(n1.default_interface().rx_bytes().value(), 0u);
  ASSERT_GE(n1.interfaces_size(), 1);
  EXPECT_GT(n1.timestamp(), 0);
  // Without a cgroup parent, the pod's figures are its containers' sum.
  EXPECT_GT(p.linux().memory().working_set_bytes().value(), 0u);
  EXPECT_GE(p.linux().process().process_count().value(), 1u);

  // Filters.
  std::vector<std::string> both = {a1, b1};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(list_container_stats(env.daemon, nullptr), both);
  v1::ContainerStatsFilter cf;
  cf.set_pod_sandbox_id(a.substr(0, 12));
  EXPECT_EQ(list_container_stats(env.daemon, &cf), std::vector<std::string>{a1});
  cf.Clear();
  cf.set_id(b1);
  EXPECT_EQ(list_container_stats(env.daemon, &cf), std::vector<std::string>{b1});
  cf.Clear();
  (*cf.mutable_label_selector())["container"] = "a1";
  EXPECT_EQ(list_container_stats(env.daemon, &cf), std::vector<std::string>{a1});
  (*cf.mutable_label_selector())["container"] = "none";
  EXPECT_TRUE(list_container_stats(env.daemon, &cf).empty());

  std::vector<std::string> pods = {a, b};
  std::sort(pods.begin(), pods.end());
  EXPECT_EQ(list_pod_stats(env.daemon, nullptr), pods);
  v1::PodSandboxStatsFilter pf;
  pf.set_id(a);
  EXPECT_EQ(list_pod_stats(env.daemon, &pf), std::vector<std::string>{a});
  pf.Clear();
  (*pf.mutable_label_selector())["app"] = "stats-b";
  EXPECT_EQ(list_pod_stats(env.daemon, &pf), std::vector<std::string>{b});

  // An exited container answers with what is left (its writable layer);
  // once removed it is NotFound, named.
  ASSERT_TRUE(stop_container(env.daemon, a1, 0).ok());
  grpc::Status st;
  const auto exited = container_stats(env.daemon, a1, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(exited.attributes().id(), a1);
  EXPECT_FALSE(exited.writable_layer().fs_id().mountpoint().empty());
  ASSERT_TRUE(remove_container(env.daemon, a1).ok());
  container_stats(env.daemon, a1, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find(a1), std::string::npos) << st.error_message();
  pod_stats(env.daemon, "0123456789abcdef", &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("0123456789abcdef"), std::string::npos) << st.error_message();
  EXPECT_EQ(list_pod_stats(env.daemon, nullptr), pods);
  ASSERT_TRUE(remove_pod(env.daemon, a).ok());
  ASSERT_TRUE(remove_pod(env.daemon, b).ok());
}

}  // namespace
}  // namespace crius::test
