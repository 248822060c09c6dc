// What kubelet tells the runtime after start: UpdateRuntimeConfig with the
// node's pod CIDR (handed to CNI plugins that declare the ipRanges
// capability, so that host-local allocates from it), and
// UpdatePodSandboxResources after an in-place pod resize (the pod cgroup's
// limits change live and are kept in the record). Both survive a restart.
// sandbox_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/sandbox_helpers.h"
//
#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kField = "runtime_config.network_config.pod_cidr";

grpc::Status update_pod_cidr(Daemon& d, const std::string& cidr) {
  v1::UpdateRuntimeConfigRequest req;
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(cidr);
  v1::UpdateRuntimeConfigResponse res;
  return d.runtime()->UpdateRuntimeConfig(deadline_ctx().get(), req, &res);
}

// A daemon on a private bridge whose host-local IPAM has no ranges of its
// own: it allocates from runtimeConfig.ipRanges, i.e. from the pod CIDR.
// Two recording plugins run first, one declaring ipRanges and one not; each
// logs "<command> <plugin> <stdin>" and passes no result on.
struct CidrEnv {
  CidrEnv()
      : daemon(DaemonOptions{
            .extra_args = {"--network-cni-plugin-dirs", plugins.dir.path() + ",/usr/lib/cni"}}) {
    for (const char* name : {"crius-ranges", "crius-noranges"}) {
      const std::string path = plugins.dir / name;
      write_file(path, std::string("#!/bin/sh\nin=$(cat)\necho \"$CNI_COMMAND ") + name + " $in\" >> " +
                           (plugins.dir / "stdin") + "\n[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\"}'\nexit 0\n");
      ::chmod(path.c_str(), 0755);
    }
    write_file(daemon.dir() / "cni/10-cidr.conflist",
               R"({"cniVersion":"1.0.0","name":"crius-test-)" + net.bridge + R"(","plugins":[)"
               R"({"type":"crius-ranges","capabilities":{"ipRanges":true}},)"
               R"({"type":"crius-noranges","capabilities":{"portMappings":true}},)"
               R"({"type":"bridge","bridge":")" + net.bridge + R"(","isGateway":true,"ipMasq":false,)"
               R"("capabilities":{"ipRanges":true},"ipam":{"type":"host-local","dataDir":")" + net.ipam.path() +
               R"("}}]})");
  }
  std::string cidr() const { return net.subnet_prefix + "0/24"; }

  // The stdin of every `command` call of `plugin`, in order.
  std::vector<nlohmann::json> calls(const std::string& command, const std::string& plugin) const {
    std::vector<nlohmann::json> out;
    std::istringstream in(fs::exists(plugins.dir / "stdin") ? read_file(plugins.dir / "stdin") : "");
    for (std::string line; std::getline(in, line);) {
      const std::string head = command + " " + plugin + " ";
      if (line.rfind(head, 0) == 0) out.push_back(nlohmann::json::parse(line.substr(head.size())));
    }
    return out;
  }

  TestNetwork net;
  TestPlugins plugins;
  Daemon daemon;
};

TEST(RuntimeConfig, PodCidrBecomesTheIpRangesOfPluginsThatAskAndSurvivesARestart) {
  CidrEnv env;
  ASSERT_TRUE(update_pod_cidr(env.daemon, env.cidr()).ok());
  EXPECT_TRUE(env.daemon.wait_for_log("pod CIDR changed")) << env.daemon.log();

  const nlohmann::json ranges = nlohmann::json::parse(R"([[{"subnet":")" + env.cidr() + R"("}]])");
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, pod_config("cidr"), &id).ok()) << env.daemon.log();
  EXPECT_EQ(pod_status(env.daemon, id).status().network().ip().rfind(env.net.subnet_prefix, 0), 0u)
      << "host-local allocated from the pod CIDR: " << pod_status(env.daemon, id).status().network().ip();
  auto adds = env.calls("ADD", "crius-ranges");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0]["runtimeConfig"]["ipRanges"], ranges) << adds[0].dump();
  auto plain = env.calls("ADD", "crius-noranges");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_FALSE(plain[0].contains("runtimeConfig")) << "no capability, no runtimeConfig: " << plain[0].dump();
  ASSERT_TRUE(remove_pod(env.daemon, id).ok());
  ASSERT_EQ(env.calls("DEL", "crius-ranges").size(), 1u);
  EXPECT_EQ(env.calls("DEL", "crius-ranges")[0]["runtimeConfig"]["ipRanges"], ranges);

  // A refused value and an empty one (kubelet's "no CIDR yet") change nothing.
  EXPECT_EQ(update_pod_cidr(env.daemon, "10.1.2.3").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  env.daemon.restart();
  ASSERT_TRUE(update_pod_cidr(env.daemon, "").ok());
  ASSERT_TRUE(run_pod(env.daemon, pod_config("cidr-again"), &id).ok()) << env.daemon.log();
  EXPECT_EQ(pod_status(env.daemon, id).status().network().ip().rfind(env.net.subnet_prefix, 0), 0u);
  adds = env.calls("ADD", "crius-ranges");
  ASSERT_EQ(adds.size(), 2u);
  EXPECT_EQ(adds[1]["runtimeConfig"]["ipRanges"], ranges) << "kept across the restart: " << adds[1].dump();
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

TEST(RuntimeConfig, DualStackCidrsAreOneRangeSetEach) {
  CidrEnv env;
  // A group without leading zeros: the range comes back in canonical form.
  const std::string v6 = "fd00:88:1" + env.net.bridge.substr(3, 3) + "::/64";
  ASSERT_TRUE(update_pod_cidr(env.daemon, env.cidr() + "," + v6).ok());
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, pod_config("dual"), &id).ok()) << env.daemon.log();
  auto adds = env.calls("ADD", "crius-ranges");
  ASSERT_EQ(adds.size(), 1u);
  const auto& got = adds[0]["runtimeConfig"]["ipRanges"];
  ASSERT_EQ(got.size(), 2u) << got.dump();
  EXPECT_EQ(got[0][0]["subnet"], env.cidr());
  EXPECT_EQ(got[1][0]["subnet"], v6);
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

TEST(RuntimeConfig, BadPodCidrsAreRefusedNamingTheField) {
  Daemon d;
  for (const std::string bad : {"10.244.0.0", "10.244.0.0/33", "10.244.0.1/24", "banana/8", "10.0.0.0/8,11.0.0.0/8",
                                "fd00::/64,fd01::/64", "10.0.0.0/8,"}) {
    auto s = update_pod_cidr(d, bad);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_NE(s.error_message().find(kField), std::string::npos) << s.error_message();
  }
  EXPECT_TRUE(update_pod_cidr(d, "10.244.0.0/16,fd00:10:244::/56").ok());
}

// ---- UpdatePodSandboxResources ----

// The value of a pod cgroup's file: the cgroup v1 controller's, else the
// cgroup v2 one.
std::string pod_cgroup_value(const std::string& cgroup, const char* controller, const char* v1_file,
                             const char* v2_file) {
  for (const std::string& path : {"/sys/fs/cgroup/" + std::string(controller) + cgroup + "/" + v1_file,
                                 "/sys/fs/cgroup" + cgroup + "/" + v2_file}) {
    if (!fs::exists(path)) continue;
    std::string v = read_file(path);
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  }
  return "";
}

struct PodCgroup {
  explicit PodCgroup(const std::string& path) : path(path) {}
  std::string memory() const { return pod_cgroup_value(path, "memory", "memory.limit_in_bytes", "memory.max"); }
  // The quota alone ("175000"; v2's cpu.max is "<quota> <period>").
  std::string quota() const {
    const std::string v = pod_cgroup_value(path, "cpu", "cpu.cfs_quota_us", "cpu.max");
    return v.substr(0, v.find(' '));
  }
  std::string shares() const { return pod_cgroup_value(path, "cpu", "cpu.shares", "cpu.weight"); }
  std::string path;
};

// A pod of 1.5 CPU / 256 MiB limits and a 512-share request, with an
// overhead of 0.25 CPU / 64 MiB / 256 shares, as kubelet sends a resize.
void set_limits(v1::LinuxContainerResources* r, int64_t quota, int64_t shares, int64_t memory) {
  r->set_cpu_period(100000);
  r->set_cpu_quota(quota);
  r->set_cpu_shares(shares);
  r->set_memory_limit_in_bytes(memory);
}

v1::UpdatePodSandboxResourcesRequest resize(const std::string& id, int64_t memory = 256 << 20) {
  v1::UpdatePodSandboxResourcesRequest req;
  req.set_pod_sandbox_id(id);
  set_limits(req.mutable_resources(), 150000, 512, memory);
  set_limits(req.mutable_overhead(), 25000, 256, 64 << 20);
  return req;
}

grpc::Status update_resources(Daemon& d, const v1::UpdatePodSandboxResourcesRequest& req) {
  v1::UpdatePodSandboxResourcesResponse res;
  return d.runtime()->UpdatePodSandboxResources(deadline_ctx().get(), req, &res);
}

// cgroup v2 has weights where v1 has shares (runc's conversion).
std::string shares_as_the_host_has_them(uint64_t shares, const PodCgroup& cg) {
  if (fs::exists("/sys/fs/cgroup/cpu" + cg.path + "/cpu.shares")) return std::to_string(shares);
  return std::to_string(1 + ((shares - 2) * 9999) / 262142);
}

TEST(PodSandboxResources, ThePodCgroupChangesLiveAndTheRecordKeepsIt) {
  TestNetwork net;  // only for a name no other test uses
  Daemon d({.extra_args = {"--cgroup-driver", "cgroupfs"}});
  const std::string parent = "/crius-test-" + net.bridge + "/resize";
  auto c = pod_config("resize");
  set_host_network(c);
  c.mutable_linux()->set_cgroup_parent(parent);
  std::string id;
  ASSERT_TRUE(run_pod(d, c, &id).ok()) << d.log();
  const PodCgroup cg(parent);
  ASSERT_FALSE(cg.memory().empty()) << "the pod cgroup " << parent << " was not found";
  EXPECT_NE(cg.memory(), std::to_string(320 << 20)) << "not set before the update";

  auto s = update_resources(d, resize(id));
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(cg.memory(), std::to_string(320 << 20)) << "256 MiB of containers + 64 MiB of overhead";
  EXPECT_EQ(cg.quota(), "175000");
  EXPECT_EQ(cg.shares(), shares_as_the_host_has_them(768, cg));

  auto stored = pod_info(d, id)["podResources"];
  EXPECT_EQ(stored["resources"]["memory_limit_in_bytes"], std::to_string(256 << 20)) << stored.dump();
  EXPECT_EQ(stored["overhead"]["cpu_quota"], "25000") << stored.dump();
  EXPECT_EQ(stored["cgroup"]["memory"]["limit"], 320 << 20) << stored.dump();

  // A smaller pod: the cgroup follows.
  ASSERT_TRUE(update_resources(d, resize(id, 128 << 20)).ok());
  EXPECT_EQ(cg.memory(), std::to_string(192 << 20));

  d.restart();
  stored = pod_info(d, id)["podResources"];
  EXPECT_EQ(stored["resources"]["memory_limit_in_bytes"], std::to_string(128 << 20)) << "kept across a restart";
  EXPECT_EQ(stored["cgroup"]["memory"]["limit"], 192 << 20);
  EXPECT_EQ(cg.memory(), std::to_string(192 << 20));

  ASSERT_TRUE(stop_pod(d, id).ok());
  s = update_resources(d, resize(id));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(cg.memory(), std::to_string(192 << 20)) << "a refused update writes nothing";
  ASSERT_TRUE(remove_pod(d, id).ok());
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory/crius-test-" + net.bridge)) << "the pod cgroup went with the pod";
}

TEST(PodSandboxResources, APodWithoutACgroupOfItsOwnOnlyRecordsThem) {
  Daemon d;
  auto c = pod_config("no-cgroup");
  set_host_network(c);
  std::string id;
  ASSERT_TRUE(run_pod(d, c, &id).ok()) << d.log();
  auto s = update_resources(d, resize(id));
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto stored = pod_info(d, id)["podResources"];
  EXPECT_EQ(stored["resources"]["cpu_quota"], "150000") << stored.dump();
  EXPECT_FALSE(stored.contains("cgroup")) << stored.dump();
  EXPECT_TRUE(remove_pod(d, id).ok());
}

TEST(PodSandboxResources, RefusalsNameTheFieldAndUnknownPodsAreNotFound) {
  Daemon d;
  auto s = update_resources(d, resize(std::string(64, 'a')));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();

  auto c = pod_config("refusals");
  set_host_network(c);
  std::string id;
  ASSERT_TRUE(run_pod(d, c, &id).ok()) << d.log();
  auto bad = resize(id);
  bad.mutable_overhead()->set_memory_limit_in_bytes(-1);
  s = update_resources(d, bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("overhead.memory_limit_in_bytes"), std::string::npos) << s.error_message();
  bad = resize(id);
  bad.mutable_resources()->set_cpu_quota(-2);
  s = update_resources(d, bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("resources.cpu_quota"), std::string::npos) << s.error_message();
  bad = resize("");
  s = update_resources(d, bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("pod_sandbox_id"), std::string::npos) << s.error_message();
  EXPECT_TRUE(pod_info(d, id)["podResources"].is_null()) << "nothing stored by refused calls";
  EXPECT_TRUE(remove_pod(d, id).ok());
}

}  // namespace
}  // namespace crius::test
