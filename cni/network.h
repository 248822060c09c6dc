// Attaching pods to the CNI network and detaching them: ADD through the
// plugin chain (each plugin gets the previous one's result), DEL in reverse,
// CHECK; with the runtimeConfig each plugin declares a capability for, the
// Kubernetes CNI_ARGS, a deadline on every plugin call, and the ADD result
// cached on disk so that DEL works after a daemon restart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/dir_watch.h"
#include "base/process.h"
#include "cni/config.h"
#include "conf/config.h"

namespace crius::cni {

struct PortMapping {
  std::string protocol = "tcp";  // tcp, udp, sctp (lower case, as the portmap plugin reads it)
  int32_t container_port = 0;
  int32_t host_port = 0;
  std::string host_ip;

  bool operator==(const PortMapping&) const = default;
};

// One pod's attachment: what every plugin call for it needs.
struct Attachment {
  std::string id;       // the sandbox ID (CNI_CONTAINERID, K8S_POD_INFRA_CONTAINER_ID)
  std::string netns;    // path of the pod's pinned network namespace
  std::string ifname = "eth0";
  std::string pod_namespace, pod_name, pod_uid;
  std::vector<PortMapping> port_mappings;
  std::map<std::string, std::string> annotations;
  // The node's pod CIDRs at ADD (set by Cni::add), as runtimeConfig.ipRanges.
  std::vector<std::string> pod_cidrs;

  nlohmann::json to_json() const;
  static Attachment from_json(const nlohmann::json&);
};

struct AddResult {
  std::string network;           // the network's name
  std::vector<std::string> ips;  // IPv4 first, then IPv6; no prefix length
  nlohmann::json result;         // the last plugin's result
};

// The network condition that Status reports.
struct Readiness {
  bool ready = false;
  std::string message;  // what is missing, when not ready
};

// What one plugin run answered (Cni's calls go through it; declared here for
// the fuzz target): a failed run throws Internal naming `what`, with the
// spec's error ({"code", "msg", "details"} on stdout) or else its stderr;
// ADD returns the result, which must be a JSON object; other commands null.
nlohmann::json plugin_answer(const std::string& what, const std::string& command, const ProcessResult& r);
// The pod IPs in an ADD result: IPv4 first, then IPv6, without prefix length.
std::vector<std::string> result_ips(const nlohmann::json& result);

// "10M", "1Gi", "500k" → bits per second, as Kubernetes quantities are read.
// Throws crius::Error (InvalidArgument).
uint64_t parse_bandwidth(const std::string& quantity);


class Cni {
 public:
  // Every plugin call is bounded by `plugin_timeout` (network.cni_plugin_timeout).
  Cni(std::string cache_dir, std::chrono::milliseconds plugin_timeout);
  ~Cni();  // closes the config dir watch

  // A valid config exists and every plugin it names is installed; for
  // cniVersion 1.1.0, every plugin also answers STATUS without error (that
  // answer is reused for a few seconds, since kubelet polls Status).
  Readiness readiness(const conf::NetworkConfig&) const;

  // ADD through the chain of the current config. On failure, the plugins get
  // DEL (in reverse), the cache entry is removed, and the error names the
  // plugin and carries its message. Throws FailedPrecondition when no valid
  // network config exists.
  AddResult add(const conf::NetworkConfig&, const Attachment&);

  // DEL in reverse with the config and result cached at ADD time, so that a
  // changed config dir or a daemon restart does not matter. Idempotent:
  // nothing cached means nothing to delete.
  void del(const conf::NetworkConfig&, const std::string& id, const std::string& ifname = "eth0");

  // CHECK (cniVersion 0.4.0 and later, unless disableCheck) with the cached result.
  void check(const conf::NetworkConfig&, const std::string& id, const std::string& ifname = "eth0");

  // At daemon start: attachments cached for pods that are not in
  // `live_ids` (a crash between ADD and the sandbox record, a record lost)
  // get DEL from the cache; then, when the current network is cniVersion
  // 1.1.0, every plugin gets GC with the attachments still valid. Errors are
  // logged, never thrown: the daemon starts regardless.
  void gc(const conf::NetworkConfig&, const std::set<std::string>& live_ids);

  // The cached entry ({network, attachment, result}) for an attachment, if any.
  std::optional<nlohmann::json> cached(const std::string& id, const std::string& ifname = "eth0") const;

  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(timeout_ms_.load()); }
  // A reloaded network.cni_plugin_timeout: calls that start later use it.
  void set_timeout(std::chrono::milliseconds t) { timeout_ms_.store(t.count()); }

  // The node's pod CIDRs from UpdateRuntimeConfig (pod_cidr.h), kept in
  // <cache_dir>/pod-cidr so that a restart keeps them. Every later ADD hands
  // them to plugins that declare the ipRanges capability (DEL and CHECK
  // repeat what ADD got). Logged when they change; false when unchanged.
  bool set_pod_cidrs(const std::vector<std::string>& cidrs);
  std::vector<std::string> pod_cidrs() const;

  // Rootless (sandbox/rootless_network.h): every plugin runs in the network
  // namespace pinned at `netns_path` instead of ours, and host-local IPAM
  // without a dataDir keeps its allocations in `ipam_data_dir` instead of
  // /var/lib/cni/networks. Set once, before the first call.
  // `problem` says what keeps that namespace from the host's network ("" for
  // nothing); readiness() reports it first.
  void run_plugins_in(std::string netns_path, std::string ipam_data_dir, std::function<std::string()> problem) {
    plugin_netns_ = std::move(netns_path);
    ipam_data_dir_ = std::move(ipam_data_dir);
    plugin_netns_problem_ = std::move(problem);
  }

  // Told how long each add, del and check took ("ADD", "DEL", "CHECK"),
  // failed ones too; set once, before the first call.
  void set_observer(std::function<void(const std::string& operation, double seconds)> observer) {
    observer_ = std::move(observer);
  }

 private:
  // Reports the time from its making to its end to the observer.
  class Timed;

  void load_pod_cidrs();  // at construction, from <cache_dir>/pod-cidr (pod_cidr.cpp)
  std::string cache_path(const std::string& id, const std::string& ifname) const;
  void write_cache(const std::string& id, const std::string& ifname, const nlohmann::json& entry) const;
  nlohmann::json invoke(const std::string& command, const NetworkList& net, size_t plugin, const Attachment& a,
                        const std::vector<std::string>& plugin_dirs, const std::optional<nlohmann::json>& prev);
  void del_chain(const NetworkList& net, const Attachment& a, const std::vector<std::string>& dirs,
                 const std::optional<nlohmann::json>& prev, std::string* first_error);

  Readiness plugin_status(const NetworkList& net, const std::vector<std::string>& dirs) const;
  // The config of `dir` as last loaded; loaded again only after the
  // directory's inotify watch saw a change (the watch starts on first use and
  // moves when a reloaded daemon config names another directory).
  Loaded current_config(const std::string& dir) const;

  // A plugin's config as given to it: name, version and, rootless, the IPAM data dir.
  nlohmann::json plugin_conf(const nlohmann::json& plugin, const NetworkList& net) const;
  ProcessResult run_plugin(const std::string& path, const std::vector<std::string>& env, const std::string& input,
                        std::chrono::milliseconds limit) const;

  std::string cache_dir_;
  std::string plugin_netns_, ipam_data_dir_;
  std::function<std::string()> plugin_netns_problem_;
  std::atomic<std::chrono::milliseconds::rep> timeout_ms_;  // changed by a reload while calls run
  std::function<void(const std::string&, double)> observer_;
  // The last STATUS answer: for which network (file + text), and when.
  mutable std::mutex status_mu_;
  mutable std::string status_key_;
  mutable std::chrono::steady_clock::time_point status_at_;
  mutable Readiness status_;
  mutable std::mutex cidr_mu_;
  std::vector<std::string> pod_cidrs_;
  mutable std::mutex watch_mu_;
  mutable std::unique_ptr<DirWatch> watch_;
  mutable uint64_t loaded_generation_ = 0;
  mutable Loaded loaded_;
};

}  // namespace crius::cni
