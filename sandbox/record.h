// A pod sandbox record: everything crius knows about one pod, kept in memory
// for List/Status and persisted atomically as <root>/sandboxes/<id>.json.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conf/config.h"
#include "sandbox/spec.h"

namespace crius::sandbox {

enum class State { ready, notready };

struct Record {
  std::string id;  // 64 hex digits
  PodSpec spec;
  State state = State::notready;
  int64_t created_at = 0;  // nanoseconds since the epoch
  std::string runtime_handler;
  // The handler's definition when the pod was made: its containers keep
  // this runtime whatever a reload later does to runtime.handlers. Empty
  // type in a record an older daemon wrote (then the config is asked).
  conf::Handler handler;

  // Network: the CNI network name and the pod's IPs (primary first).
  std::string network;
  std::vector<std::string> ips;
  bool cni_attached = false;  // ADD succeeded and DEL has not run yet

  // Pinned namespaces, by kind ("net", "ipc", "uts"), as bind-mount paths.
  std::map<std::string, std::string> namespaces;
  std::string run_dir;  // <state>/sandboxes/<id>: hostname, resolv.conf, shm
  std::string hostname_path, resolv_conf_path, hosts_path, shm_path;  // shm_path empty: host IPC
  bool shm_mounted = false;
  int pause_pid = 0;  // crius-pause, PID 1 of the pod's PID namespace (pid: POD); 0 when none

  std::string cgroup_parent;                 // the path under each hierarchy's root, "" when none
  std::vector<std::string> cgroup_created;   // absolute dirs crius made, parents first

  // The pod's resources as UpdatePodSandboxResources last set them (null
  // before): {"overhead", "resources"} as kubelet sent them (CRI
  // LinuxContainerResources in proto JSON), and "cgroup", the OCI
  // linux.resources written to the pod's cgroup (absent when it has none).
  nlohmann::json pod_resources;

  nlohmann::json to_json() const;
  static Record from_json(const nlohmann::json&);
};

// <dir>/<id>.json, written atomically.
void save(const std::string& dir, const Record&);
void erase_record(const std::string& dir, const std::string& id);
// Every readable record in dir; unreadable ones are logged and skipped.
std::vector<Record> load_all(const std::string& dir);

}  // namespace crius::sandbox
