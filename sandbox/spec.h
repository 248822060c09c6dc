// What a pod sandbox is asked to be, in plain C++: the server turns the CRI
// PodSandboxConfig into this, and keeps the full config (as protobuf JSON)
// in `config` so that status and later issues see exactly what was sent.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/network.h"

namespace crius::sandbox {

// CRI NamespaceMode, same values.
enum class NsMode { pod = 0, container = 1, node = 2, target = 3 };

// "POD", "CONTAINER"… as the CRI names them, for messages.
inline const char* ns_mode_name(NsMode m) {
  switch (m) {
    case NsMode::pod: return "POD";
    case NsMode::container: return "CONTAINER";
    case NsMode::node: return "NODE";
    case NsMode::target: return "TARGET";
  }
  return "?";
}

// One range of a user namespace's ID map, as the CRI's IDMapping: container
// IDs [container_id, container_id + length) are host IDs [host_id, …).
struct IdRange {
  uint32_t host_id = 0, container_id = 0, length = 0;
  bool operator==(const IdRange&) const = default;
};

// The pod's user namespace (CRI UserNamespace): NODE is the node's; POD is
// one of the pod's own with exactly these maps (validated by
// sandbox/userns.h before anything is made).
struct UsernsSpec {
  NsMode mode = NsMode::node;
  std::vector<IdRange> uids, gids;
  bool own() const { return mode == NsMode::pod; }
};

struct DnsConfig {
  std::vector<std::string> servers, searches, options;
  bool empty() const { return servers.empty() && searches.empty() && options.empty(); }
};

struct PodSpec {
  std::string name, uid, namespace_;
  uint32_t attempt = 0;
  std::string hostname;
  std::string log_directory;
  DnsConfig dns;
  std::vector<cni::PortMapping> port_mappings;
  std::map<std::string, std::string> labels, annotations;
  std::string cgroup_parent;
  std::map<std::string, std::string> sysctls;
  NsMode network = NsMode::pod, pid = NsMode::container, ipc = NsMode::pod;
  std::string target_id;
  UsernsSpec userns;              // userns_options; NODE when unset
  std::string runtime_handler;    // empty: the default handler
  nlohmann::json config;          // the full PodSandboxConfig as protobuf JSON

  // How log lines name the pod: namespace/name, as kubectl does.
  std::string log_name() const { return namespace_ + "/" + name; }

  // name_namespace_uid_attempt, unique among live sandboxes.
  std::string reservation_key() const {
    return name + "_" + namespace_ + "_" + uid + "_" + std::to_string(attempt);
  }
};

void to_json(nlohmann::json&, const PodSpec&);
void from_json(const nlohmann::json&, PodSpec&);

}  // namespace crius::sandbox
