// Helpers for the pod sandbox e2e tests: a private CNI network per test
// (unique bridge, subnet, IPAM dir; removed afterwards), pod configs, and
// entering a pod's pinned namespaces from a thread of the test.
#pragma once

// daemon.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/daemon.h"
//
#include <functional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace crius::test {

namespace v1 = runtime::v1;

std::unique_ptr<grpc::ClientContext> deadline_ctx(int seconds = 30);

// A bridge network that only this test uses: bridge "crb<suffix>", subnet
// 10.88.<n>.0/24, host-local IPAM state under the test's temporary dir.
struct TestNetwork {
  TestNetwork();
  ~TestNetwork();  // deletes the bridge
  std::string bridge;
  std::string subnet_prefix;  // "10.88.<n>."
  std::string gateway() const { return subnet_prefix + "1"; }
  TempDir ipam;
  // A 1.0.0 conflist with bridge + host-local (+ portmap), and extra plugins appended.
  std::string conflist(const std::vector<std::string>& extra_plugins = {}, bool portmap = true,
                       const std::string& version = "1.0.0") const;
};

// A directory of test plugins (shell scripts): crius-fail (ADD fails with a
// CNI error), crius-hang (ADD never answers), crius-record (logs every
// command to <dir>/calls, succeeds with an empty result).
struct TestPlugins {
  TestPlugins();
  TempDir dir;
  std::string calls() const;
};

v1::PodSandboxConfig pod_config(const std::string& name);
void set_host_network(v1::PodSandboxConfig&);

grpc::Status run_pod(Daemon& d, const v1::PodSandboxConfig& c, std::string* id);
grpc::Status stop_pod(Daemon& d, const std::string& id);
grpc::Status remove_pod(Daemon& d, const std::string& id);
v1::PodSandboxStatusResponse pod_status(Daemon& d, const std::string& id, bool verbose = true);
// The verbose info of PodSandboxStatus as JSON.
nlohmann::json pod_info(Daemon& d, const std::string& id);

// Runs `f` on a fresh thread that has joined the namespace pinned at `path`.
void in_namespace(const std::string& path, int nstype, const std::function<void()>& f);

// What a test must leave as it found: netns pins and mounts under `dir`,
// the interfaces on the test's bridge (its pods' veths; other tests' links
// come and go in parallel), cgroup dirs named `cgroup_marker`, files under `dir`,
// the processes that name `dir` (monitors) and every crius-pause, the NAT and
// filter rules that name the bridge or a CNI chain, and `ipam_dir`'s files
// (host-local's allocations) when given.
struct Residue {
  std::set<std::string> mounts, links, cgroups, files, processes, rules;
  bool operator==(const Residue&) const = default;
};
Residue snapshot(const std::string& dir, const std::string& cgroup_marker, const std::string& bridge,
                 const std::string& ipam_dir = "");
std::string describe_difference(const Residue& before, const Residue& after);

}  // namespace crius::test
