// The pod-metrics descriptor table and the conversion of sampled usage to
// CRI metrics, checked the way kubelet's CRI metrics collector uses them:
// a sample whose name has no descriptor, or whose label values do not line
// up with its descriptor's keys, is dropped by kubelet.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "server/metric_descriptors.h"
#include "server/pod_metrics_convert.h"

namespace crius::server {
namespace {

namespace v1 = ::runtime::v1;

constexpr uint64_t kSec = 1'000'000'000;

std::map<std::string, v1::MetricDescriptor> descriptors() {
  google::protobuf::RepeatedPtrField<v1::MetricDescriptor> list;
  list_descriptors(&list);
  std::map<std::string, v1::MetricDescriptor> by_name;
  for (const auto& d : list) EXPECT_TRUE(by_name.emplace(d.name(), d).second) << "twice: " << d.name();
  return by_name;
}

std::vector<std::string> keys(const v1::MetricDescriptor& d) { return {d.label_keys().begin(), d.label_keys().end()}; }

TEST(MetricDescriptors, AreTheCadvisorFamiliesWithKubeletsBaseLabels) {
  const auto by_name = descriptors();
  const std::set<std::string> expected = {
      "container_cpu_usage_seconds_total",
      "container_cpu_user_seconds_total",
      "container_cpu_system_seconds_total",
      "container_memory_usage_bytes",
      "container_memory_working_set_bytes",
      "container_memory_rss",
      "container_memory_cache",
      "container_memory_swap",
      "container_memory_failcnt",
      "container_memory_failures_total",
      "container_oom_events_total",
      "container_processes",
      "container_fs_usage_bytes",
      "container_fs_inodes_total",
      "container_network_receive_bytes_total",
      "container_network_transmit_bytes_total",
      "container_network_receive_packets_total",
      "container_network_transmit_packets_total",
      "container_network_receive_errors_total",
      "container_network_transmit_errors_total",
      "container_network_receive_packets_dropped_total",
      "container_network_transmit_packets_dropped_total",
      "container_spec_memory_limit_bytes",
      "container_spec_cpu_quota",
      "container_start_time_seconds",
      "container_last_seen",
  };
  std::set<std::string> names;
  for (const auto& [name, d] : by_name) {
    names.insert(name);
    EXPECT_FALSE(d.help().empty()) << name;
    const auto k = keys(d);
    ASSERT_GE(k.size(), 6u) << name;
    EXPECT_EQ(std::vector<std::string>(k.begin(), k.begin() + 6),
              (std::vector<std::string>{"container", "id", "image", "name", "namespace", "pod"}))
        << name;
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(by_name.size(), kFamilyCount);

  auto extra = [&](const std::string& name) {
    const auto k = keys(by_name.at(name));
    return std::vector<std::string>(k.begin() + 6, k.end());
  };
  EXPECT_EQ(extra("container_cpu_usage_seconds_total"), std::vector<std::string>{"cpu"});
  EXPECT_EQ(extra("container_cpu_user_seconds_total"), std::vector<std::string>{});
  EXPECT_EQ(extra("container_memory_failures_total"), (std::vector<std::string>{"failure_type", "scope"}));
  EXPECT_EQ(extra("container_fs_usage_bytes"), std::vector<std::string>{"device"});
  EXPECT_EQ(extra("container_fs_inodes_total"), std::vector<std::string>{"device"});
  EXPECT_EQ(extra("container_network_receive_bytes_total"), std::vector<std::string>{"interface"});
  EXPECT_EQ(extra("container_network_transmit_packets_dropped_total"), std::vector<std::string>{"interface"});
  EXPECT_EQ(by_name.at("container_memory_working_set_bytes").help(), "Current working set in bytes.");
  EXPECT_EQ(by_name.at("container_cpu_usage_seconds_total").help(), "Cumulative cpu time consumed in seconds.");
}

TEST(MetricDescriptors, CountersAreTheCumulativeFamilies) {
  for (std::size_t i = 0; i < kFamilyCount; ++i) {
    const FamilyInfo& f = info(static_cast<Family>(i));
    const std::string name(f.name);
    // fs_inodes_total is the filesystem's inode count, a gauge despite its name.
    const bool cumulative =
        (name.ends_with("_total") && name != "container_fs_inodes_total") || name == "container_memory_failcnt";
    EXPECT_EQ(f.type, cumulative ? v1::MetricType::COUNTER : v1::MetricType::GAUGE) << name;
  }
}

// A pod with its own cgroup, one container on cgroup v1 (per-CPU times)
// with limits and a writable layer, and one network interface.
struct Fixture {
  sandbox::Record pod;
  std::vector<container::Record> containers;
  container::PodUsage usage;

  Fixture() {
    pod.id = "pod1";
    pod.spec.name = "web";
    pod.spec.namespace_ = "prod";
    pod.created_at = 1000 * kSec + 5;
    pod.cgroup_parent = "/kubepods/podx";
    pod.state = sandbox::State::ready;

    container::Record c;
    c.id = "ctr1";
    c.pod_id = pod.id;
    c.name = "app";
    c.image = "registry.example/app:1";
    c.created_at = 1100 * kSec;
    c.started_at = 1200 * kSec + 999;
    c.resources.set_memory_limit_in_bytes(64 << 20);
    c.resources.set_cpu_quota(50000);
    containers.push_back(c);

    usage.at = 2000 * kSec + 1;
    usage.cgroup.emplace();
    auto& ps = usage.cgroup->stats;
    ps.cpu.total_ns = 9 * kSec;
    ps.cpu.user_ns = 7 * kSec + kSec / 2;
    ps.cpu.system_ns = kSec / 2;
    ps.memory.working_set = 300;
    ps.pids.current = 4;
    usage.network = std::vector<container::InterfaceCounters>{
        {.name = "eth0", .rx_bytes = 1234, .rx_packets = 12, .rx_errors = 1, .rx_dropped = 2, .tx_bytes = 567,
         .tx_packets = 5, .tx_errors = 3, .tx_dropped = 4}};

    container::ContainerUsage cu;
    cu.at = 2000 * kSec + 2;
    cu.cgroup.emplace();
    auto& cs = cu.cgroup->stats;
    cs.cpu.per_cpu_ns = {0, 3 * kSec + 600'000'000, 2 * kSec};
    cs.cpu.total_ns = 5 * kSec + 600'000'000;
    cs.cpu.user_ns = 4 * kSec;
    cs.cpu.system_ns = kSec + 600'000'000;
    cs.memory.usage = 1000;
    cs.memory.working_set = 800;
    cs.memory.rss = 700;
    cs.memory.cache = 200;
    cs.memory.swap = 10;
    cs.memory.failcnt = 6;
    cs.memory.pgfault = 50;  // v1: total_pgfault
    cs.memory.pgmajfault = 5;
    cs.memory.raw = {{"pgfault", 40}, {"pgmajfault", 4}, {"total_pgfault", 50}, {"total_pgmajfault", 5}};
    cs.memory.oom_kill = 1;
    cs.memory.oom_events = 9;
    cs.pids.current = 2;
    cu.writable_layer = container::WritableLayer{
        .mountpoint = "/var", .bytes = 4096, .inodes = 3, .device = "/dev/vda1", .device_inodes = 65536};
    usage.containers.push_back(cu);
  }

  v1::PodSandboxMetrics convert() const {
    v1::PodSandboxMetrics out;
    to_metrics(pod, containers, usage, &out);
    return out;
  }
};

// The samples of `family` whose extra labels (after the six base ones) are `extra`.
std::vector<v1::Metric> find(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics, const std::string& family,
                             const std::vector<std::string>& extra = {}) {
  std::vector<v1::Metric> out;
  for (const auto& m : metrics) {
    if (m.name() != family) continue;
    if (std::vector<std::string>(m.label_values().begin() + 6, m.label_values().end()) == extra) out.push_back(m);
  }
  return out;
}

uint64_t value(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics, const std::string& family,
               const std::vector<std::string>& extra = {}) {
  const auto found = find(metrics, family, extra);
  EXPECT_EQ(found.size(), 1u) << family;
  return found.empty() ? ~uint64_t{0} : found[0].value().value();
}

void expect_kubelet_accepts(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics,
                            const std::vector<std::string>& base, std::set<std::string>* seen) {
  const auto by_name = descriptors();
  for (const auto& m : metrics) {
    seen->insert(m.name());
    auto d = by_name.find(m.name());
    ASSERT_NE(d, by_name.end()) << m.name();
    EXPECT_EQ(m.label_values_size(), d->second.label_keys_size()) << m.name();
    EXPECT_EQ(std::vector<std::string>(m.label_values().begin(), m.label_values().begin() + 6), base) << m.name();
    EXPECT_GT(m.timestamp(), 0) << m.name();
    EXPECT_TRUE(m.has_value()) << m.name();
  }
}

TEST(PodMetrics, EverySampleLinesUpWithItsDescriptorAndEveryFamilyIsSent) {
  const Fixture f;
  const auto out = f.convert();
  EXPECT_EQ(out.pod_sandbox_id(), "pod1");
  ASSERT_EQ(out.container_metrics_size(), 1);
  EXPECT_EQ(out.container_metrics(0).container_id(), "ctr1");
  std::set<std::string> seen;
  expect_kubelet_accepts(out.metrics(), {"", "pod1", "", "", "prod", "web"}, &seen);
  expect_kubelet_accepts(out.container_metrics(0).metrics(),
                         {"app", "ctr1", "registry.example/app:1", "ctr1", "prod", "web"}, &seen);
  EXPECT_EQ(seen.size(), kFamilyCount);
  // Each sample's type is its family's.
  for (const auto* list : {&out.metrics(), &out.container_metrics(0).metrics()}) {
    for (const auto& m : *list) {
      for (std::size_t i = 0; i < kFamilyCount; ++i) {
        const FamilyInfo& family = info(static_cast<Family>(i));
        if (family.name == m.name()) {
          EXPECT_EQ(m.metric_type(), family.type) << m.name();
        }
      }
    }
  }
}

TEST(PodMetrics, ContainerValuesAreCadvisorsInWholeUnits) {
  const Fixture f;
  const auto out = f.convert();
  const auto& c = out.container_metrics(0).metrics();
  // Per-CPU times in whole seconds, only the CPUs used, named as cAdvisor does.
  EXPECT_TRUE(find(c, "container_cpu_usage_seconds_total", {"cpu00"}).empty());
  EXPECT_EQ(value(c, "container_cpu_usage_seconds_total", {"cpu01"}), 3u);
  EXPECT_EQ(value(c, "container_cpu_usage_seconds_total", {"cpu02"}), 2u);
  EXPECT_EQ(find(c, "container_cpu_usage_seconds_total", {"total"}).size(), 0u);
  EXPECT_EQ(value(c, "container_cpu_user_seconds_total"), 4u);
  EXPECT_EQ(value(c, "container_cpu_system_seconds_total"), 1u);
  EXPECT_EQ(value(c, "container_memory_usage_bytes"), 1000u);
  EXPECT_EQ(value(c, "container_memory_working_set_bytes"), 800u);
  EXPECT_EQ(value(c, "container_memory_rss"), 700u);
  EXPECT_EQ(value(c, "container_memory_cache"), 200u);
  EXPECT_EQ(value(c, "container_memory_swap"), 10u);
  EXPECT_EQ(value(c, "container_memory_failcnt"), 6u);
  EXPECT_EQ(value(c, "container_memory_failures_total", {"pgfault", "container"}), 40u);
  EXPECT_EQ(value(c, "container_memory_failures_total", {"pgmajfault", "container"}), 4u);
  EXPECT_EQ(value(c, "container_memory_failures_total", {"pgfault", "hierarchy"}), 50u);
  EXPECT_EQ(value(c, "container_memory_failures_total", {"pgmajfault", "hierarchy"}), 5u);
  EXPECT_EQ(value(c, "container_oom_events_total"), 1u);  // OOM kills, as cAdvisor counts them
  EXPECT_EQ(value(c, "container_processes"), 2u);
  EXPECT_EQ(value(c, "container_fs_usage_bytes", {"/dev/vda1"}), 4096u);
  EXPECT_EQ(value(c, "container_fs_inodes_total", {"/dev/vda1"}), 65536u);
  EXPECT_EQ(value(c, "container_spec_memory_limit_bytes"), uint64_t{64} << 20);
  EXPECT_EQ(value(c, "container_spec_cpu_quota"), 50000u);
  EXPECT_EQ(value(c, "container_start_time_seconds"), 1200u);
  EXPECT_EQ(value(c, "container_last_seen"), 2000u);
  EXPECT_EQ(find(c, "container_network_receive_bytes_total", {"eth0"}).size(), 0u);  // the pod's
  for (const auto& m : c) EXPECT_EQ(m.timestamp(), static_cast<int64_t>(2000 * kSec + 2)) << m.name();
}

TEST(PodMetrics, ThePodHasItsCgroupAndItsNetwork) {
  const Fixture f;
  const auto out = f.convert();
  const auto& p = out.metrics();
  EXPECT_EQ(value(p, "container_network_receive_bytes_total", {"eth0"}), 1234u);
  EXPECT_EQ(value(p, "container_network_receive_packets_total", {"eth0"}), 12u);
  EXPECT_EQ(value(p, "container_network_receive_errors_total", {"eth0"}), 1u);
  EXPECT_EQ(value(p, "container_network_receive_packets_dropped_total", {"eth0"}), 2u);
  EXPECT_EQ(value(p, "container_network_transmit_bytes_total", {"eth0"}), 567u);
  EXPECT_EQ(value(p, "container_network_transmit_packets_total", {"eth0"}), 5u);
  EXPECT_EQ(value(p, "container_network_transmit_errors_total", {"eth0"}), 3u);
  EXPECT_EQ(value(p, "container_network_transmit_packets_dropped_total", {"eth0"}), 4u);
  // cgroup v2 style (no per-CPU times): one "total" series.
  EXPECT_EQ(value(p, "container_cpu_usage_seconds_total", {"total"}), 9u);
  EXPECT_EQ(value(p, "container_cpu_user_seconds_total"), 7u);
  EXPECT_EQ(value(p, "container_memory_working_set_bytes"), 300u);
  EXPECT_EQ(value(p, "container_processes"), 4u);
  EXPECT_EQ(value(p, "container_start_time_seconds"), 1000u);
  // v2's memory.stat is hierarchical: the same count for both scopes.
  EXPECT_EQ(find(p, "container_memory_failures_total", {"pgfault", "container"}).size(), 1u);
  // A pod has no filesystem or limits of its own here.
  EXPECT_TRUE(find(p, "container_fs_usage_bytes", {"/dev/vda1"}).empty());
  EXPECT_TRUE(find(p, "container_spec_memory_limit_bytes").empty());
}

TEST(PodMetrics, APodWithoutACgroupOfItsOwnSendsNoCgroupFigures) {
  Fixture f;
  f.pod.cgroup_parent.clear();  // the usage is then the containers' sum: counted once, in the containers
  const auto out = f.convert();
  EXPECT_TRUE(find(out.metrics(), "container_cpu_user_seconds_total").empty());
  EXPECT_TRUE(find(out.metrics(), "container_memory_working_set_bytes").empty());
  EXPECT_EQ(value(out.metrics(), "container_network_receive_bytes_total", {"eth0"}), 1234u);
  EXPECT_EQ(value(out.container_metrics(0).metrics(), "container_cpu_user_seconds_total"), 4u);
}

TEST(PodMetrics, WhatCannotBeReadIsLeftOutAndNoLimitIsZero) {
  Fixture f;
  f.usage.containers[0].cgroup.reset();         // its cgroup could not be read
  f.usage.containers[0].writable_layer.reset();  // nor its layer
  f.usage.network.reset();                       // a host-network pod
  f.usage.cgroup->stats.cpu.total_ns = 0;        // nothing run yet: no "total" series
  f.containers[0].resources.set_memory_limit_in_bytes(0);
  f.containers[0].resources.set_cpu_quota(-1);
  f.containers[0].started_at = 0;
  const auto out = f.convert();
  const auto& c = out.container_metrics(0).metrics();
  EXPECT_TRUE(find(c, "container_cpu_user_seconds_total").empty());
  EXPECT_TRUE(find(c, "container_fs_usage_bytes", {"/dev/vda1"}).empty());
  EXPECT_EQ(value(c, "container_spec_memory_limit_bytes"), 0u);
  EXPECT_TRUE(find(c, "container_spec_cpu_quota").empty());
  EXPECT_EQ(value(c, "container_start_time_seconds"), 1100u);  // created, not yet started
  EXPECT_EQ(value(c, "container_last_seen"), 2000u);
  EXPECT_TRUE(find(out.metrics(), "container_network_receive_bytes_total", {"eth0"}).empty());
  EXPECT_TRUE(find(out.metrics(), "container_cpu_usage_seconds_total", {"total"}).empty());

  f.containers[0].resources.set_memory_limit_in_bytes(INT64_MAX);  // the kernel's "max"
  EXPECT_EQ(value(f.convert().container_metrics(0).metrics(), "container_spec_memory_limit_bytes"), 0u);
}

}  // namespace
}  // namespace crius::server
