// A container record: what crius knows of one container, kept in memory for
// List/Status and persisted atomically as <root>/containers/<id>.json. The
// exit itself is recorded by the pod's monitor (its exit file is the truth
// while the daemon is down); the record catches up when it reads it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cri.pb.h"
#include "oci/monitor/client.h"

namespace crius::container {

// CRI ContainerState, same values.
enum class State { created = 0, running = 1, exited = 2, unknown = 3 };

struct Record {
  std::string id;  // 64 hex digits
  std::string pod_id;
  std::string name;  // metadata.name
  uint32_t attempt = 0;
  runtime::v1::ContainerConfig config;  // as kubelet sent it

  std::string image;       // the image spec as requested (config.image.image)
  std::string image_id;    // "sha256:…", the config digest
  std::string image_name;  // the repo tag it was found by, or the request
  std::string image_ref;   // a repo digest when known, else the image ID

  State state = State::created;
  int64_t created_at = 0, started_at = 0, finished_at = 0;  // nanoseconds since the epoch
  int exit_code = 0;
  std::string reason, message;
  int pid = 0;

  std::string bundle;   // <state>/containers/<id>: config.json
  std::string cgroups_path;  // linux.cgroupsPath of the spec, as the handler reads it
  std::string rootfs;   // the mounted overlay
  std::string log_path;  // empty: none
  std::string handler;   // runtime handler name of the pod
  int stop_signal = 15;
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> supplemental_groups;
  std::string username;
  runtime::v1::LinuxContainerResources resources;  // as last applied
  std::string monitor_dir;  // the pod monitor's directory (its exit records)
  // The OCI runtime the monitor was given, for the daemon to drive itself
  // when the monitor is gone (direct_runtime.h).
  oci::monitor::Handler runtime;
  // config.mounts[i] that are image volumes → the mounted image's repo
  // digest (or ID), for ContainerStatus.mounts[i].image.image_ref.
  std::map<int, std::string> image_volume_refs;

  nlohmann::json to_json() const;
  static Record from_json(const nlohmann::json&);
};

// <dir>/<id>.json, written atomically.
void save(const std::string& dir, const Record&);
void erase_record(const std::string& dir, const std::string& id);
// Every readable record in dir; unreadable ones are logged and skipped.
std::vector<Record> load_all(const std::string& dir);

}  // namespace crius::container
