// The record of one container: <root>/<id>/state.json, written atomically
// (temp file, fsync, rename). It holds what the OCI state reports plus what
// later commands need: the init's start time (to tell it from a process that
// reused its pid) and the config as created (for poststart/poststop hooks).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace crius::oci::runtime {

// The spec version this runtime implements and reports in state and features.
inline constexpr const char* kOciVersion = "1.1.0";

enum class Status { creating, created, running, stopped, paused };
const char* status_name(Status);

struct State {
  std::string id;
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22 at create
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC
  std::string owner;
  std::map<std::string, std::string> annotations;
  nlohmann::json config;  // config.json as created
  bool own_pid_ns = false;
  // The container's cgroup (cgroups::Paths::to_json), null without one;
  // cgroup_owned: create made it, so delete removes it.
  nlohmann::json cgroup;
  bool cgroup_owned = false;

  // Status as the kernel sees it now; fifo_present says whether the exec fifo
  // still waits for start.
  Status status = Status::creating;

  // The spec's state object (ociVersion, id, status, pid, bundle, annotations)
  // plus runc's extra rootfs/created/owner; what `state` prints.
  nlohmann::ordered_json to_public_json() const;
  // Exactly the spec's state object: what hooks read on stdin.
  nlohmann::ordered_json to_hook_json() const;
  nlohmann::json to_record_json() const;
  static State from_record_json(const nlohmann::json&);
};

// Validates a container ID (no '/', no "..", printable, at most 1024 bytes).
void check_container_id(const std::string& id);
std::string state_dir(const std::string& root, const std::string& id);
void save_state(const std::string& dir, const State&);
// NotFound when there is no such container.
State load_state(const std::string& root, const std::string& id);
// The status now: stopped when init is gone (or a zombie), created while the
// exec fifo waits, paused while its cgroup is frozen, running otherwise.
Status current_status(const std::string& dir, const State&);

}  // namespace crius::oci::runtime
