// The containers of all pods: their lifecycle (create, start, stop, remove),
// ExecSync, exec/attach streams and log reopening through each pod's monitor, and the in-memory
// table List and Status read. A failed create leaves nothing behind (rootfs,
// bundle, record, runtime state).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "container/events.h"
#include "container/exit_watch.h"
#include "container/record.h"
#include "image/images.h"
#include "oci/cdi/registry.h"
#include "oci/monitor/client.h"
#include "sandbox/sandboxes.h"

namespace crius::container {

struct ExecOutput {
  int exit_code = 0;
  std::string stdout_data, stderr_data;
};

// What the streaming server checks of a container before it serves exec or
// attach (and reports to its client): the record's state and stdio flags.
struct StreamTarget {
  std::string id;  // the full ID
  bool running = false;
  bool tty = false, stdin = false, stdin_once = false;
};

// crius-monitor beside the running binary (sibling_executable), or "" when missing.
std::string default_monitor_binary();

class Containers {
 public:
  // Records live in <root>/containers, bundles in <state>/containers/<id>.
  Containers(const std::string& root, const std::string& state, sandbox::Sandboxes& pods, image::Images& images,
             std::string monitor_binary);
  // Reads the records an earlier daemon kept and brings their state up to
  // date from the monitors' exit records (a container that exited while the
  // daemon was down is EXITED with its code and time, and reported stopped).
  void load();
  // Where every state change goes (set before load): created, started,
  // stopped (the moment the monitor records the exit, or when it learns of
  // one), deleted, in order per container.
  void set_listener(EventListener listener) { listener_ = std::move(listener); }
  // The records of a pod as they stand, without asking the monitor: what a
  // listener may read while an event is being reported.
  std::vector<Record> peek(const std::string& pod_id) const;

  // Throws crius::Error: NotFound for an unknown pod or an image not present
  // locally, AlreadyExists naming the holder of the name, InvalidArgument for
  // bad input, FailedPrecondition for a pod that is not ready.
  std::string create(const std::string& pod_id, const runtime::v1::ContainerConfig& config,
                     const conf::Config& conf);
  void start(const std::string& id);
  // The stop signal, then SIGKILL after `timeout`; idempotent.
  void stop(const std::string& id, std::chrono::seconds timeout);
  // Stops it if needed and removes everything it owns; idempotent.
  void remove(const std::string& id);

  // By full ID or unique prefix, with its state brought up to date.
  Record get(const std::string& id);
  std::vector<Record> list();
  // The pid of the live monitor serving `monitor_dir` (a container record's,
  // or a pod's <run_dir>/monitor) as the daemon watches it; 0 when none.
  pid_t monitor_pid(const std::string& monitor_dir) const;

  // Runs cmd in the container; DeadlineExceeded when it outlives timeout
  // (zero: no timeout), after killing it.
  ExecOutput exec_sync(const std::string& id, const std::vector<std::string>& cmd, std::chrono::seconds timeout);
  void reopen_log(const std::string& id);

  // Streaming (container/streams.cpp). NotFound for an unknown container.
  StreamTarget stream_target(const std::string& id);
  // Starts cmd in the running container with its stdio on the returned
  // stream (its own connection to the pod's monitor): a terminal with tty
  // (TERM=xterm, as containerd sets it), pipes otherwise, stdin only when
  // asked for. FailedPrecondition naming the container when it is not
  // running; InvalidArgument for an empty cmd.
  oci::monitor::StreamConn open_exec(const std::string& id, const std::vector<std::string>& cmd, bool tty,
                                     bool stdin);
  // Attaches a new stream to the running container's main process: a copy
  // of its output, its stdin when it has one and stdin is asked for.
  // FailedPrecondition naming the container when it is not running.
  oci::monitor::StreamConn open_attach(const std::string& id, bool stdin);
  // Applies new limits to the running container (through its pod's monitor,
  // which runs the handler's update) and keeps them for status.
  void update_resources(const std::string& id, const runtime::v1::LinuxContainerResources& resources);

  // For StopPodSandbox and RemovePodSandbox: every container of the pod is
  // killed (and removed), then the pod's monitor is told to exit.
  void stop_pod(const std::string& pod_id);
  void remove_pod(const std::string& pod_id);

  // The CDI devices CreateContainer injects (runtime.cdi_spec_dirs), for Status.
  oci::cdi::Registry& cdi() { return cdi_; }

 private:
  // From load(): releases what a crash in CreateContainer left (sweep.cpp).
  void sweep();
  // A container whose monitor died while it was created or running: the
  // daemon watches its init and drives its runtime itself (orphans.cpp).
  struct Orphan {
    bool adopted = false;
    bool gone = false;  // its init has ended (its exit status is lost)
    int signal = 0;     // the last signal the daemon sent it
  };
  struct Entry {
    std::mutex op;          // one lifecycle operation at a time per container
    std::mutex ev;          // a state change and its event, in order
    std::mutex mu;          // guards the rest; held briefly, never across a
    Record rec;             // wait, so Status and List never queue behind a Stop
    pid_t monitor_pid = 0;  // of the monitor that holds it; 0: unknown, -1: none
    Orphan orphan;
  };
  // The record brought up to date from the monitor's exit file, or from
  // the end of an orphan (and saved when that changed it).
  Record snapshot(Entry& e);
  // Saves `rec` and makes it the entry's record.
  void store(Entry& e, const Record& rec);
  // To the listener and the log (log_change).
  void report(Event kind, const Record& rec);
  // One info line per state change, naming the container and its pod.
  void log_change(Event kind, const Record& rec) const;
  // The exit the monitor just recorded (from the exit watch).
  void exited(const std::string& id);
  std::shared_ptr<Entry> find(const std::string& id) const;
  // The image volumes of a config (Mount.image): InvalidArgument for
  // host_path with image, readonly false, a sub path without an image;
  // NotFound for an image not present. Before anything is made.
  void check_image_volumes(const runtime::v1::ContainerConfig& config, const conf::ImageConfig& conf) const;
  std::vector<std::shared_ptr<Entry>> entries_of(const std::string& pod_id) const;
  oci::monitor::Client monitor_for(const sandbox::Record& pod, const conf::Config& conf);
  std::optional<oci::monitor::Client> monitor_of(const Record& rec);
  // The monitor that holds it, if that one still answers.
  std::optional<oci::monitor::Client> monitor_of(Entry& e);
  // The monitor that holds the running container; Unavailable when it does not answer.
  oci::monitor::Client held_monitor(const Record& rec);
  // Updates rec from the monitor's exit record, or from the end of an
  // orphan; true when it changed.
  bool refresh(Record& rec, const Orphan& orphan);
  bool refresh(Record& rec);  // of a container that is no orphan
  // orphans.cpp: a pidfd on each monitor; when one ends, its containers are
  // adopted: those still alive are watched, the others are stopped now.
  void watch_monitor(const std::string& dir, pid_t pid);
  void monitor_gone(const std::string& dir, pid_t pid);
  void adopt(Entry& e);
  void orphan_ended(const std::string& id);
  void stop_orphan(Entry& e, std::chrono::seconds timeout);
  oci::monitor::Handler runtime_of(const Record& rec) const;
  void stop_locked(Entry& e, std::chrono::seconds timeout);
  void remove_locked(Entry& e);
  void persist(const Record& rec);

  std::string records_dir_, bundles_dir_, runtime_state_;
  sandbox::Sandboxes& pods_;
  image::Images& images_;
  std::string monitor_binary_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> containers_;
  std::map<std::string, std::string> names_;  // "<pod>/<name>/<attempt>" → ID
  std::mutex monitors_mu_;                    // starting a pod's monitor
  mutable std::mutex monitor_pids_mu_;
  std::map<std::string, pid_t> monitor_pids_;  // monitor dir → the pid watched
  oci::cdi::Registry cdi_;
  EventListener listener_;
  ExitWatch exit_watch_{[this](const std::string& id) { exited(id); }};  // last: its thread uses the rest
};

}  // namespace crius::container
