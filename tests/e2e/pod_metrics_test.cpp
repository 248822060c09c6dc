// The CRI pod-metrics RPCs as kubelet's CRI metrics collector uses them:
// ListMetricDescriptors once, then ListPodSandboxMetrics on every scrape,
// each sample turned into a Prometheus series of its descriptor (dropped
// when its label values do not line up with the descriptor's keys). The
// figures follow what the containers do: CPU time, working set, traffic.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/e2e/net_helpers.h"
#include "tests/support/eventually.h"
//
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace crius::test {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::vector<v1::MetricDescriptor> list_descriptors(Daemon& d) {
  v1::ListMetricDescriptorsResponse res;
  auto s = d.runtime()->ListMetricDescriptors(deadline_ctx().get(), v1::ListMetricDescriptorsRequest(), &res);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {res.descriptors().begin(), res.descriptors().end()};
}

std::vector<v1::PodSandboxMetrics> list_metrics(Daemon& d) {
  v1::ListPodSandboxMetricsResponse res;
  auto s = d.runtime()->ListPodSandboxMetrics(deadline_ctx().get(), v1::ListPodSandboxMetricsRequest(), &res);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {res.pod_metrics().begin(), res.pod_metrics().end()};
}

std::vector<v1::PodSandboxMetrics> stream_metrics(Daemon& d) {
  auto ctx = deadline_ctx();
  auto reader = d.runtime()->StreamPodSandboxMetrics(ctx.get(), v1::StreamPodSandboxMetricsRequest());
  std::vector<v1::PodSandboxMetrics> out;
  v1::StreamPodSandboxMetricsResponse batch;
  while (reader->Read(&batch))
    for (const auto& m : batch.pod_sandbox_metrics()) out.push_back(m);
  auto s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

// One sample as kubelet keys a series: family and label values.
struct Series {
  std::string pod, container, name;
  std::vector<std::string> labels;
  auto operator<=>(const Series&) const = default;
};

// Every sample of `all`, by series, with its value.
std::map<Series, uint64_t> series(const std::vector<v1::PodSandboxMetrics>& all) {
  std::map<Series, uint64_t> out;
  auto add = [&](const std::string& pod, const std::string& ctr, const v1::Metric& m) {
    Series s{pod, ctr, m.name(), {m.label_values().begin(), m.label_values().end()}};
    EXPECT_TRUE(out.emplace(s, m.value().value()).second) << "sent twice: " << m.name() << " of " << pod << "/" << ctr;
  };
  for (const auto& p : all) {
    for (const auto& m : p.metrics()) add(p.pod_sandbox_id(), "", m);
    for (const auto& c : p.container_metrics())
      for (const auto& m : c.metrics()) add(p.pod_sandbox_id(), c.container_id(), m);
  }
  return out;
}

// The sum of a family's samples for one container ("" for the pod),
// optionally only those whose last label value is `last` (an interface…).
uint64_t sum(const std::map<Series, uint64_t>& all, const std::string& pod, const std::string& ctr,
             const std::string& name, const std::string& last = "") {
  uint64_t total = 0;
  for (const auto& [s, v] : all)
    if (s.pod == pod && s.container == ctr && s.name == name && (last.empty() || s.labels.back() == last)) total += v;
  return total;
}

TEST(PodMetrics, FollowWhatTheContainersDo) {
  ContainerEnv env;
  const std::string pod = env.run_pod("metrics");
  const std::string burner =
      env.create(pod, container_config("burner", env.image, {"sh", "-c", "while :; do :; done"}));
  const std::string holder = env.create(pod, container_config("holder", env.image, {"sleep", "3600"}));

  // CPU: the burner's time grows (whole seconds, as kubelet exposes them unscaled).
  auto first = series(list_metrics(env.daemon));
  const uint64_t cpu0 = sum(first, pod, burner, "container_cpu_usage_seconds_total");
  const uint64_t user0 = sum(first, pod, burner, "container_cpu_user_seconds_total");
  EXPECT_TRUE(crius::testing::eventually(
      [&] {
        auto now = series(list_metrics(env.daemon));
        return sum(now, pod, burner, "container_cpu_usage_seconds_total") >= cpu0 + 2 &&
               sum(now, pod, burner, "container_cpu_user_seconds_total") > user0;
      },
      std::chrono::seconds(60)))
      << "the busy loop's CPU seconds did not grow from " << cpu0;

  // Memory: 48 MiB written to the pod's /dev/shm by an exec in the holder
  // (tmpfs pages are charged to the writer's cgroup and are not reclaimable
  // file cache) raise its working set.
  const uint64_t ws0 = sum(first, pod, holder, "container_memory_working_set_bytes");
  auto ex = exec_sync(env.daemon, holder, {"dd", "if=/dev/zero", "of=/dev/shm/blob", "bs=1048576", "count=48"}, 30);
  ASSERT_TRUE(ex.status.ok() && ex.exit_code == 0) << ex.status.error_message() << ex.err;
  auto after = series(list_metrics(env.daemon));
  EXPECT_TRUE(crius::testing::eventually(
      [&] {
        after = series(list_metrics(env.daemon));
        return sum(after, pod, holder, "container_memory_working_set_bytes") >= ws0 + 40 * kMiB &&
               sum(after, pod, holder, "container_memory_usage_bytes") >= 40 * kMiB;
      },
      std::chrono::seconds(30)))
      << "the holder's working set stayed near " << ws0;

  // Network: bounded traffic from the test to the pod IP shows on the pod's eth0.
  const std::string ip = pod_status(env.daemon, pod).status().network().ip();
  ASSERT_FALSE(ip.empty());
  const uint64_t rx0 = sum(after, pod, "", "container_network_receive_bytes_total", "eth0");
  const uint64_t packets0 = sum(after, pod, "", "container_network_receive_packets_total", "eth0");
  send_udp(ip, 50, 1000);  // from the test's namespace, over the test bridge
  EXPECT_TRUE(crius::testing::eventually([&] {
    auto now = series(list_metrics(env.daemon));
    return sum(now, pod, "", "container_network_receive_bytes_total", "eth0") >= rx0 + 50 * 1000 &&
           sum(now, pod, "", "container_network_receive_packets_total", "eth0") >= packets0 + 50;
  }, std::chrono::seconds(30))) << "rx bytes stayed near " << rx0;
  // Network figures are the pod's: its containers share its namespace.
  for (const auto& [s, v] : after) {
    if (s.name.starts_with("container_network_")) {
      EXPECT_EQ(s.container, "") << s.name;
    }
  }

  // The base labels: container, id, image, name, namespace, pod.
  const auto& cfg = env.pods.at(pod).metadata();
  bool seen = false;
  for (const auto& [s, v] : after) {
    if (s.container != burner || s.name != "container_memory_usage_bytes") continue;
    seen = true;
    EXPECT_EQ(s.labels, (std::vector<std::string>{"burner", burner, env.image, burner, cfg.namespace_(), cfg.name()}));
  }
  EXPECT_TRUE(seen);
  for (const auto& [s, v] : after) {
    if (s.container != "" || s.name != "container_last_seen") continue;
    EXPECT_EQ(s.labels, (std::vector<std::string>{"", pod, "", "", cfg.namespace_(), cfg.name()}));
  }

  // A stopped container is no longer reported; a removed pod neither.
  ASSERT_TRUE(stop_container(env.daemon, burner, 2).ok());
  auto stopped = list_metrics(env.daemon);
  ASSERT_EQ(stopped.size(), 1u);
  for (const auto& c : stopped[0].container_metrics()) EXPECT_NE(c.container_id(), burner);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  EXPECT_TRUE(list_metrics(env.daemon).empty());
}

// The label values without the CPU of a per-CPU time (which CPUs a busy
// process has used may change between two calls).
Series key_of(Series s) {
  if (s.name == "container_cpu_usage_seconds_total") s.labels.pop_back();
  return s;
}

TEST(PodMetrics, DescriptorsListExactlyWhatIsSentAndStreamMatchesList) {
  ContainerEnv env({"--cgroup-driver", "cgroupfs"});
  // One pod with a cgroup of its own, one without.
  auto pc = pod_config("metrics-own-cgroup");
  pc.mutable_linux()->set_cgroup_parent("/crius-test-" + env.net.bridge + "/metrics");
  const std::string a = env.run_pod(pc);
  const std::string b = env.run_pod("metrics-plain");
  auto limited = container_config("limited", env.image, {"sleep", "3600"});
  auto* res = limited.mutable_linux()->mutable_resources();
  res->set_cpu_period(100000);
  res->set_cpu_quota(50000);
  res->set_memory_limit_in_bytes(256 * kMiB);
  const std::string la = env.create(a, limited);
  env.create(a, container_config("idle", env.image, {"sleep", "3600"}));
  env.create(b, container_config("idle", env.image, {"sleep", "3600"}));
  const std::string exited = env.create(b, container_config("done", env.image, {"true"}));
  ASSERT_TRUE(wait_state(env.daemon, exited, v1::CONTAINER_EXITED));

  std::map<std::string, v1::MetricDescriptor> descriptors;
  for (const auto& d : list_descriptors(env.daemon)) {
    EXPECT_TRUE(descriptors.emplace(d.name(), d).second) << "described twice: " << d.name();
    EXPECT_FALSE(d.help().empty()) << d.name();
  }

  const auto listed = list_metrics(env.daemon);
  ASSERT_EQ(listed.size(), 2u);
  std::set<std::string> sent;
  for (const auto& [s, v] : series(listed)) {
    sent.insert(s.name);
    auto d = descriptors.find(s.name);
    ASSERT_NE(d, descriptors.end()) << "no descriptor for " << s.name;
    EXPECT_EQ(s.labels.size(), static_cast<size_t>(d->second.label_keys_size())) << s.name;
    EXPECT_NE(s.container, exited) << "an exited container has no cgroup left to report";
  }
  std::set<std::string> described;
  for (const auto& [name, d] : descriptors) described.insert(name);
  EXPECT_EQ(sent, described);

  // The limits as given, and the pod's own cgroup at the pod level.
  const auto all = series(listed);
  EXPECT_EQ(sum(all, a, la, "container_spec_cpu_quota"), 50000u);
  EXPECT_EQ(sum(all, a, la, "container_spec_memory_limit_bytes"), 256 * kMiB);
  EXPECT_GT(sum(all, a, "", "container_memory_usage_bytes"), 0u);
  EXPECT_EQ(sum(all, b, "", "container_memory_usage_bytes"), 0u);  // no pod cgroup: left to its containers
  size_t b_interfaces = 0;
  for (const auto& [s, v] : all)
    if (s.pod == b && s.container == "" && s.name == "container_network_receive_bytes_total") ++b_interfaces;
  EXPECT_EQ(b_interfaces, 1u) << "eth0 only (lo is left out, as cAdvisor does)";

  // The stream answers the same series.
  std::set<Series> from_list, from_stream;
  for (const auto& [s, v] : series(listed)) from_list.insert(key_of(s));
  for (const auto& [s, v] : series(stream_metrics(env.daemon))) from_stream.insert(key_of(s));
  EXPECT_EQ(from_stream, from_list);
}

}  // namespace
}  // namespace crius::test
