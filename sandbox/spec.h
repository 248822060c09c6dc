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
  bool userns_requested = false;  // userns_options asked for something other than the node's
  std::string runtime_handler;    // empty: the default handler
  nlohmann::json config;          // the full PodSandboxConfig as protobuf JSON

  // name_namespace_uid_attempt, unique among live sandboxes.
  std::string reservation_key() const {
    return name + "_" + namespace_ + "_" + uid + "_" + std::to_string(attempt);
  }
};

void to_json(nlohmann::json&, const PodSpec&);
void from_json(const nlohmann::json&, PodSpec&);

}  // namespace crius::sandbox
