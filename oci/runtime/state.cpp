#include "oci/runtime/state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/file.h"
#include "base/proc_stat.h"
#include "oci/cgroups/cgroup.h"

namespace crius::oci::runtime {

const char* status_name(Status s) {
  switch (s) {
    case Status::creating: return "creating";
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::stopped: return "stopped";
    case Status::paused: return "paused";
  }
  return "unknown";
}

nlohmann::ordered_json State::to_hook_json() const {
  nlohmann::ordered_json j;
  j["ociVersion"] = kOciVersion;
  j["id"] = id;
  j["status"] = status_name(status);
  // The spec requires pid while the process exists (created, running).
  if (status != Status::stopped) j["pid"] = pid;
  j["bundle"] = bundle;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

nlohmann::ordered_json State::to_public_json() const {
  // runc's order and fields: pid 0 once stopped.
  nlohmann::ordered_json j;
  j["ociVersion"] = kOciVersion;
  j["id"] = id;
  j["pid"] = status == Status::stopped ? 0 : pid;
  j["status"] = status_name(status);
  j["bundle"] = bundle;
  j["rootfs"] = rootfs;
  j["created"] = created;
  j["owner"] = owner;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

nlohmann::json State::to_record_json() const {
  nlohmann::json j;
  j["id"] = id;
  j["pid"] = pid;
  j["startTime"] = start_time;
  j["bundle"] = bundle;
  j["rootfs"] = rootfs;
  j["created"] = created;
  j["owner"] = owner;
  j["annotations"] = annotations;
  j["ownPidNs"] = own_pid_ns;
  j["config"] = config;
  if (!cgroup.is_null()) {
    j["cgroup"] = cgroup;
    j["cgroupOwned"] = cgroup_owned;
  }
  return j;
}

State State::from_record_json(const nlohmann::json& j) {
  State s;
  s.id = j.at("id").get<std::string>();
  s.pid = j.at("pid").get<pid_t>();
  s.start_time = j.value("startTime", uint64_t{0});
  s.bundle = j.value("bundle", std::string());
  s.rootfs = j.value("rootfs", std::string());
  s.created = j.value("created", std::string());
  s.owner = j.value("owner", std::string());
  if (j.contains("annotations")) s.annotations = j["annotations"].get<std::map<std::string, std::string>>();
  s.own_pid_ns = j.value("ownPidNs", false);
  if (j.contains("config")) s.config = j["config"];
  if (j.contains("cgroup")) s.cgroup = j["cgroup"];
  s.cgroup_owned = j.value("cgroupOwned", false);
  return s;
}

void check_container_id(const std::string& id) {
  if (id.empty()) throw InvalidArgument("container ID must not be empty");
  if (id.size() > 1024) throw InvalidArgument("container ID is longer than 1024 bytes");
  if (id == "." || id == "..") throw InvalidArgument("invalid container ID \"" + id + "\"");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '+';
    if (!ok) throw InvalidArgument("invalid container ID \"" + id + "\": only letters, digits and _ - . + are allowed");
  }
}

std::string state_dir(const std::string& root, const std::string& id) { return root + "/" + id; }

void save_state(const std::string& dir, const State& s) {
  // Not fsynced: the record describes processes that a machine crash ends
  // anyway, and rename alone gives readers and a crashed runtime the old or
  // the new record. fsync would cost more than the rest of create (the state
  // directory is on disk on some hosts). A record torn by a machine crash
  // reads as a stopped container that delete removes.
  write_file_atomic(dir + "/state.json", s.to_record_json().dump(), 0600, false);
}

State load_state(const std::string& root, const std::string& id) {
  check_container_id(id);
  const std::string path = state_dir(root, id) + "/state.json";
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
    struct stat st;
    if (::stat(state_dir(root, id).c_str(), &st) != 0) throw NotFound("container \"" + id + "\" does not exist");
    // A create that died before its first record: nothing runs; delete
    // cleans the directory up.
    State s;
    s.id = id;
    s.status = Status::stopped;
    return s;
  }
  try {
    State s = State::from_record_json(nlohmann::json::parse(text));
    s.status = current_status(state_dir(root, id), s);
    return s;
  } catch (const nlohmann::json::exception& e) {
    // Torn by a machine crash: nothing runs any more; let delete clean up.
    State s;
    s.id = id;
    s.status = Status::stopped;
    return s;
  }
}

Status current_status(const std::string& dir, const State& s) {
  if (s.pid <= 0) return Status::stopped;
  char st = process_state(s.pid);
  if (st == 0 || st == 'Z' || st == 'X') return Status::stopped;
  if (s.start_time != 0 && process_start_time(s.pid) != s.start_time) return Status::stopped;
  struct stat sb;
  if (::lstat((dir + "/exec.fifo").c_str(), &sb) == 0) return Status::created;
  if (s.cgroup.is_object() && cgroups::Cgroup(cgroups::Paths::from_json(s.cgroup)).frozen()) return Status::paused;
  return Status::running;
}

}  // namespace crius::oci::runtime
