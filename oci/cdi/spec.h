// A CDI spec file: the devices of one vendor/class and the edits each makes
// to a container's OCI spec, as the Container Device Interface defines them
// (cdiVersion 0.3.0 to 0.8.0, and 1.0.0, whose format is 0.8.0's). A file is
// JSON (".json") or YAML (".yaml"). A field the model does not have, or one
// newer than the file's cdiVersion (a mount `type` needs 0.4.0, a device
// node `hostPath` or a device name starting with a digit 0.5.0,
// `annotations` or a dot in the class 0.6.0, `intelRdt` or `additionalGids`
// 0.7.0), makes the file invalid, as the spec says it must.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crius::oci::cdi {

struct DeviceNode {
  std::string path;       // in the container
  std::string host_path;  // on the host; empty: `path`
  std::string type;       // "b", "c", "u", "p" or empty (read from the host node)
  std::optional<int64_t> major, minor;
  std::optional<uint32_t> file_mode;
  std::string permissions;  // cgroup access, of r, w, m; empty: rwm
  std::optional<uint32_t> uid, gid;

  bool operator==(const DeviceNode&) const = default;
};

struct Mount {
  std::string host_path, container_path, type;
  std::vector<std::string> options;

  bool operator==(const Mount&) const = default;
};

struct Hook {
  std::string hook_name;  // an OCI hook kind: prestart, createRuntime, createContainer, startContainer, poststart, poststop
  std::string path;       // absolute
  std::vector<std::string> args, env;
  std::optional<int> timeout;  // seconds, > 0

  bool operator==(const Hook&) const = default;
};

struct IntelRdt {
  std::string clos_id, l3_cache_schema, mem_bw_schema;
  bool enable_cmt = false, enable_mbm = false;

  bool operator==(const IntelRdt&) const = default;
};

struct ContainerEdits {
  std::vector<std::string> env;  // NAME=VALUE
  std::vector<DeviceNode> device_nodes;
  std::vector<Mount> mounts;
  std::vector<Hook> hooks;
  std::optional<IntelRdt> intel_rdt;
  std::vector<uint32_t> additional_gids;

  bool empty() const {
    return env.empty() && device_nodes.empty() && mounts.empty() && hooks.empty() && !intel_rdt &&
           additional_gids.empty();
  }
  bool operator==(const ContainerEdits&) const = default;
};

struct Device {
  std::string name;  // unqualified
  std::map<std::string, std::string> annotations;
  ContainerEdits edits;  // never empty

  bool operator==(const Device&) const = default;
};

struct Spec {
  std::string path;     // the file it was read from
  std::string version;  // cdiVersion
  std::string kind;     // "vendor/class"
  std::string vendor, device_class;
  std::map<std::string, std::string> annotations;
  std::vector<Device> devices;  // at least one, names unique
  ContainerEdits edits;         // applied when any of its devices is

  bool operator==(const Spec&) const = default;
};

// The cdiVersion values accepted, oldest first.
const std::vector<std::string>& supported_versions();

// The oldest cdiVersion that has every field and name form `spec` uses.
std::string minimum_version(const Spec& spec);

// Parses and checks a spec; `yaml` picks the syntax. Throws crius::Error
// InvalidArgument saying what is wrong and where (the field's path, e.g.
// "devices[0].containerEdits.deviceNodes[1].permissions"), without the file
// name (the caller has it).
Spec parse_spec(std::string_view text, bool yaml);

// Reads and parses the file at `path`, in the syntax its extension names.
Spec read_spec(const std::string& path);

}  // namespace crius::oci::cdi
