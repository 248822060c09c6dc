// The pod's infra process for a shared PID namespace (pid: POD): crius-pause
// started as PID 1 of a new PID namespace, inside the pod's network, IPC and
// UTS namespaces, from a read-only tmpfs root that holds only the binary
// (in a mount namespace of its own, so nothing shows on the node). In a pod
// with a user namespace ("user" in the namespaces it joins) it runs as that
// namespace's root, and its PID namespace is owned by it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace crius::sandbox {

// crius-pause beside the running binary (sibling_executable), or "" when missing.
std::string default_pause_binary();

void kill_pause(pid_t pid);

class PauseProcess {
 public:
  // Starts it, pins its PID namespace at `pid_pin`. `root_dir` is an empty
  // directory used as the mount point of its root (in its own mount ns).
  // Throws crius::Error naming the step; nothing is left on failure.
  static PauseProcess start(const std::string& binary, const std::map<std::string, std::string>& join,
                            const std::string& root_dir, const std::string& pid_pin);
  PauseProcess() = default;
  PauseProcess(PauseProcess&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  PauseProcess& operator=(PauseProcess&& o) noexcept {
    if (this != &o) {
      if (pid_ > 0) kill_pause(pid_);
      pid_ = o.pid_;
      o.pid_ = -1;
    }
    return *this;
  }
  ~PauseProcess();  // kills and reaps it unless released

  pid_t pid() const { return pid_; }
  pid_t release() {
    pid_t p = pid_;
    pid_ = -1;
    return p;
  }

 private:
  pid_t pid_ = -1;
};

// Whether `pid` is a running crius-pause (by its command name).
bool is_pause(pid_t pid);

// Stops a pause process by PID (SIGKILL, bounded wait). A PID that is gone
// or now belongs to another program is left alone.
void kill_pause(pid_t pid);

}  // namespace crius::sandbox
