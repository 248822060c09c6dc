// The pod sandboxes: their lifecycle (run, stop, remove) and the in-memory
// table that List and Status read. Every step of a run that fails undoes the
// ones before it, so a failed RunPodSandbox leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/random_id.h"
#include "base/rollback.h"
#include "cni/network.h"
#include "conf/config.h"
#include "sandbox/record.h"

namespace crius::sandbox {

class RootlessNetwork;

class PinnedNamespaces;
class PauseProcess;
class PauseWatch;

class Sandboxes {
 public:
  // Records live in <root>/sandboxes, run-time state in <state>/sandboxes and
  // <state>/ns. load() reads the records kept by an earlier daemon.
  // `pause_binary` is crius-pause, needed only by pods that share a PID namespace.
  Sandboxes(std::string root, std::string state, cni::Cni& cni, std::string pause_binary = "");
  ~Sandboxes();
  void load();
  // After load() and CNI garbage collection: releases what a crash in the
  // middle of RunPodSandbox left under <state> for a pod without a record
  // (sweep.cpp), one log line each.
  void sweep();

  // Creates the pod and returns its ID. Throws crius::Error: InvalidArgument
  // for bad input, AlreadyExists (naming the existing ID) for a duplicate,
  // Unimplemented for options crius does not support yet, and the failing
  // step's error otherwise.
  // `userns_check`, for a pod with its own user namespace, throws when the
  // pod's runtime handler cannot run one (FailedPrecondition naming it).
  using HandlerCheck = std::function<void(const std::string& handler)>;
  std::string run(PodSpec spec, const conf::Config& config, const HandlerCheck& userns_check = {});
  // Tears the network down and unmounts shm; idempotent. NotFound for an unknown ID.
  void stop(const std::string& id, const conf::Config& config);
  // Stops the pod if needed and removes everything it owns; an unknown ID is fine.
  void remove(const std::string& id, const conf::Config& config);

  // UpdatePodSandboxResources (pod_resources.cpp): writes `cgroup` (OCI
  // linux.resources) to the pod's cgroup when it has one, then keeps
  // `requested` (what kubelet sent) and `cgroup` as the record's
  // pod_resources. NotFound for an unknown ID, FailedPrecondition for a pod
  // that is not ready; a kernel refusal of a value is InvalidArgument.
  void update_resources(const std::string& id, nlohmann::json requested, const nlohmann::json& cgroup);

  // By full ID or unique prefix; NotFound otherwise. The pod is named in
  // the calling thread's log scope (log::annotate).
  Record get(const std::string& id) const;
  // The pod's namespace/name for log lines; empty for an unknown ID.
  std::string log_name(const std::string& id) const;
  std::vector<Record> list() const;
  // IDs of the pods attached to the CNI network now (for CNI garbage collection).
  std::set<std::string> attached_ids() const;

  std::string records_dir() const { return records_dir_; }

  // Rootless (rootless_network.h): a pod's host ports are forwarded from the
  // host through it. Set once, before the first RunPodSandbox.
  void forward_host_ports_through(RootlessNetwork* net) { rootless_network_ = net; }

 private:
  struct Entry {
    std::mutex op;  // one lifecycle operation at a time per pod
    Record rec;
  };
  std::shared_ptr<Entry> find(const std::string& id) const;
  std::string run_steps(PodSpec spec, const conf::Config& config, const std::string& cgroup, Rollback& undo,
                        PinnedNamespaces& pins, PauseProcess& pause);
  void stop_locked(Entry& e, const conf::Config& config);
  // A pod's crius-pause died on its own (the pause watch reaped it): the pod is NOTREADY.
  void pause_exited(pid_t pid);

  // In a pod's run dir: the cgroup dirs it created, one a line, for sweep().
  static constexpr const char* kCgroupsFile = "cgroups";

  std::string records_dir_, run_root_, ns_root_, pause_binary_;
  cni::Cni& cni_;
  RootlessNetwork* rootless_network_ = nullptr;
  std::vector<std::string> cgroup_mounts_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> sandboxes_;
  std::map<std::string, std::string> reserved_;  // reservation key → ID
  std::unique_ptr<PauseWatch> pause_watch_;      // last: its thread stops first
};

// A new pod sandbox or container ID: 64 lower-case hex digits from the
// kernel's random source.
inline std::string new_id() { return random_hex(32); }

}  // namespace crius::sandbox
