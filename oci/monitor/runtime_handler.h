// How the monitor drives the OCI runtime of its pod: the builtin library in
// process, or an external runc-compatible binary (runc, crun) by its command
// line. Either way the monitor is the parent or subreaper of every container
// init and exec'd process, and reaps them itself.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "oci/monitor/client.h"

namespace crius::oci::monitor {

// Told of a process reaped outside the monitor's loop: (pid, wait status).
using Reaped = std::function<void(pid_t, int)>;

class RuntimeHandler {
 public:
  virtual ~RuntimeHandler() = default;
  // Every child that remove() reaps while it waits, so that the monitor
  // records those exits as its own loop would have.
  Reaped on_reaped;
  // Creates the container with stdio[0..2] as its stdin/stdout/stderr (not
  // owned). With tty, the process gets a new pty whose master is returned in
  // *pty_master instead. Returns the init's pid; throws crius::Error.
  virtual pid_t create(const std::string& id, const std::string& bundle, const int stdio[3], bool tty,
                       Fd* pty_master) = 0;
  virtual void start(const std::string& id) = 0;
  virtual void kill(const std::string& id, int signal, bool all) = 0;
  // A live change of the container's linux.resources (an OCI
  // linux.resources object; only the fields given change).
  virtual void update(const std::string& id, const nlohmann::json& resources) = 0;
  // Forcibly deletes it from the runtime (killed first when running). It
  // reaps while it waits: an init that leads a pid namespace cannot finish
  // dying while zombies of its namespace (processes exec'd into it, which
  // are our children) wait to be reaped, and we are their reaper.
  virtual void remove(const std::string& id) = 0;
  // Starts `process` (an OCI process object) in the running container with
  // the given stdio and returns its pid (our child or reparented to us).
  // With pty_master (and process.terminal true), the process gets a new pty
  // instead, whose master is returned there.
  virtual pid_t exec(const std::string& id, const nlohmann::json& process, const int stdio[3],
                     Fd* pty_master) = 0;
};

// `dir` is the monitor's directory (scratch files for external runtimes).
std::unique_ptr<RuntimeHandler> make_builtin_handler(const Handler& h, const std::string& dir);
std::unique_ptr<RuntimeHandler> make_external_handler(const Handler& h, const std::string& dir);

// Receives the pty master of container `id` that the runtime sends with
// SCM_RIGHTS on the console socket `sock`.
Fd receive_pty_master(int sock, const std::string& id);

// Waits up to timeout_ms for `target` to exit, reaping every child that
// exits meanwhile (target too, when it is ours) and passing each to
// `reaped`. Returns true once target is gone; its wait status goes to
// *target_status when we reaped it.
bool wait_reaping(pid_t target, int timeout_ms, const Reaped& reaped, int* target_status = nullptr);

}  // namespace crius::oci::monitor
