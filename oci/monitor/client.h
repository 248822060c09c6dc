// The daemon's side of the per-pod monitor (crius-monitor): starting it,
// finding it again after a daemon restart, and asking it to run the pod's
// containers. One monitor per pod; it is the parent and subreaper of every
// container and exec of the pod, holds their stdio, writes their CRI logs and
// records each exit in a file under its directory, so that no exit is lost
// while the daemon is down.
//
//   auto m = Client::start({.binary = mon, .dir = pod_dir + "/monitor", .pod_id = id, .handler = h});
//   pid_t pid = m.create({.id = cid, .bundle = b, .log_path = log});
//   m.start(cid);
//   m.update_resources(cid, {{"memory", {{"limit", 256 << 20}}}});
//   auto r = m.exec_sync(cid, process_json, 5s, 16 << 20);
//   auto s = m.exec_stream(cid, process_json, /*tty=*/true, /*stdin=*/true);
//   // s.fd now carries frames (protocol.h): write stdin/resize, read output
//   // until the exit frame.
//
// Every call throws crius::Error: Unavailable when the monitor does not
// answer, and the monitor's own error (with its code: NotFound for an unknown
// container, InvalidArgument, FailedPrecondition…) otherwise.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/fd.h"

namespace crius::oci::monitor {

// The OCI runtime a pod's containers run under.
struct Handler {
  std::string name;           // the CRI runtime handler name, for messages
  std::string binary;         // runc-compatible binary; empty: the builtin library in process
  std::string root;           // the runtime's state root (--root)
  bool systemd_cgroup = false;  // --systemd-cgroup / the systemd cgroupsPath form
};

struct StartOptions {
  std::string binary;        // path of crius-monitor
  std::string dir;           // the monitor's directory: socket, exit records, its log
  std::string pod_id;
  Handler handler;
  // Absolute cgroup directories (one per hierarchy) the monitor moves itself
  // into, so that it is accounted to the pod; may be empty.
  std::vector<std::string> cgroup_dirs;
};

struct ContainerOptions {
  std::string id;
  std::string bundle;         // holds config.json and the mounted rootfs
  std::string log_path;       // CRI log file; empty: output discarded
  uint64_t log_size_max = 0;  // bytes; 0: unlimited
  bool tty = false;
  bool stdin = false;
  bool stdin_once = false;
};

// What the monitor recorded when the container's init exited.
struct ExitInfo {
  int exit_code = 0;         // 128+signal when killed by a signal
  int signal = 0;            // the killing signal, 0 when it exited
  int64_t finished_at = 0;   // nanoseconds since the epoch
  bool oom_killed = false;   // the container's cgroup counted an OOM kill
};

struct ContainerInfo {
  std::string id;
  pid_t pid = 0;
  std::string status;        // "created", "running", "paused" or "stopped"
  int64_t created_at = 0;    // nanoseconds since the epoch
  int64_t started_at = 0;    // 0 until started
  std::optional<ExitInfo> exit;
};

struct ExecResult {
  int exit_code = 0;
  std::string stdout_data, stderr_data;  // raw bytes, each capped
  bool timed_out = false;                // the process was killed at the deadline
};

// A stream opened by exec_stream or attach_stream: its own connection to
// the monitor, a blocking unix socket that now carries frames both ways
// (protocol.h: protocol::Frame, FrameReader, encode_frame). Closing it
// before the exit frame hangs up an exec (SIGHUP, then SIGKILL) and
// detaches an attach.
struct StreamConn {
  Fd fd;
  pid_t pid = 0;     // the exec'd process; 0 for an attach
  bool tty = false;  // output is a terminal's (no stderr channel)
};

class Client {
 public:
  // Connects to the pod's monitor, starting it first if its socket does not
  // answer. The monitor runs in its own session, outlives the daemon, and
  // exits once asked to (shutdown) with no container left.
  static Client start(const StartOptions&);
  // Connects to a monitor started earlier; nullopt when none answers.
  static std::optional<Client> connect(const std::string& dir);
  // The pid of the monitor of dir that holds its lock, answering or not; 0
  // when none does.
  static pid_t lock_holder(const std::string& dir);

  // The protocol version the monitor speaks and its pid.
  int version() const { return version_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }

  // Creates the container (its init waits for start) and returns the init's pid.
  pid_t create(const ContainerOptions&);
  void start(const std::string& id);
  // FailedPrecondition when the container is not running.
  void kill(const std::string& id, int signal, bool all);
  // A live change of the container's resources: `resources` is an OCI
  // linux.resources object (only the fields given change). The monitor runs
  // the pod's runtime for it. FailedPrecondition when the container is
  // stopped; Unimplemented from a monitor older than protocol version 2.
  void update_resources(const std::string& id, const nlohmann::json& resources);
  // Deletes it from the runtime (force: killed first) and forgets it; its
  // exit record is removed. Idempotent for an unknown ID.
  void remove(const std::string& id);
  ContainerInfo status(const std::string& id);
  std::vector<ContainerInfo> list();
  // Runs `process` (an OCI process object) in the container, collecting at
  // most `output_cap` bytes of each stream. At the deadline the process is
  // killed and timed_out is set; a zero timeout means none.
  ExecResult exec_sync(const std::string& id, const nlohmann::json& process, std::chrono::milliseconds timeout,
                       size_t output_cap);
  // Starts `process` (an OCI process object) in the running container with
  // its stdio on a new stream: a pty with tty, else pipes (stdin only when
  // asked for). FailedPrecondition when the container is not running;
  // Unimplemented from a monitor older than protocol version 3.
  StreamConn exec_stream(const std::string& id, const nlohmann::json& process, bool tty, bool stdin);
  // A new stream attached to the running container's main process: a copy
  // of its output, and its stdin when it has one and `stdin` asks for it
  // (else the attach goes on without). FailedPrecondition when the
  // container is not running; Unimplemented as exec_stream.
  StreamConn attach_stream(const std::string& id, bool stdin);
  // Reopens the container's log file (after kubelet rotated it).
  void reopen_log(const std::string& id);
  // Asks the monitor to exit and waits (bounded) until it has: it sits in
  // the pod's cgroups, which the pod's removal deletes next.
  // FailedPrecondition while it still has containers.
  void shutdown();

 private:
  Client(std::string dir, int version, pid_t pid) : dir_(std::move(dir)), version_(version), pid_(pid) {}
  nlohmann::json call(const nlohmann::json& request);
  StreamConn open_stream(const std::string& what, const std::string& id, const nlohmann::json& request);
  std::string dir_;
  int version_ = 0;
  pid_t pid_ = 0;
};

// The exit record the monitor wrote for `id` in `dir`; nullopt when the
// container has not exited (or is unknown). Readable with the monitor gone.
std::optional<ExitInfo> read_exit(const std::string& dir, const std::string& id);

}  // namespace crius::oci::monitor
