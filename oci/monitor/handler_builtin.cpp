// The builtin handler: the oci/runtime library in process. create() clones
// the init from this (single-threaded) process, so it is our child.
#include <signal.h>
#include <sys/socket.h>

#include <exception>

#include "base/error.h"
#include "base/fd.h"
#include "base/log.h"
#include "oci/monitor/runtime_handler.h"
#include "oci/runtime/container.h"
#include "oci/runtime/exec.h"

namespace crius::oci::monitor {

namespace rt = crius::oci::runtime;

namespace {

// The runtime sends the pty master it makes on *theirs; we receive it on *ours.
void console_pair(const std::string& what, Fd* ours, Fd* theirs) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("console socketpair for " + what);
  ours->reset(sv[0]);
  theirs->reset(sv[1]);
}

// As long as destroy() waits for an init after SIGKILL.
constexpr int kRemoveWaitMs = 10000;

class BuiltinHandler : public RuntimeHandler {
 public:
  BuiltinHandler(const Handler& h, std::string dir)
      : root_(h.root), dir_(std::move(dir)), systemd_cgroup_(h.systemd_cgroup) {}

  pid_t create(const std::string& id, const std::string& bundle, const int stdio[3], bool tty,
               Fd* pty_master) override {
    rt::CreateOptions o;
    o.bundle = bundle;
    o.systemd_cgroup = systemd_cgroup_;
    Fd ours, theirs;
    if (tty) {
      console_pair(id, &ours, &theirs);
      o.console_fd = theirs.get();
    }
    for (int i = 0; i < 3; ++i) o.stdio[i] = stdio[i];
    auto c = rt::Container::create(root_, id, o);
    if (tty) {
      theirs.reset();
      try {
        *pty_master = receive_pty_master(ours.get(), id);
      } catch (...) {
        try {
          c.destroy(true);
        } catch (const std::exception& e) {
          // The pty error is what the caller must see; the leftover is named here.
          log::warn("removing a container whose pty was not received failed", {{"id", id}, {"error", e.what()}});
        }
        throw;
      }
    }
    return c.pid();
  }

  void start(const std::string& id) override { rt::Container::load(root_, id).start(); }

  void kill(const std::string& id, int signal, bool all) override {
    rt::Container::load(root_, id).kill(signal, all);
  }

  void update(const std::string& id, const nlohmann::json& resources) override {
    rt::Container::load(root_, id).update(resources);
  }

  void remove(const std::string& id) override {
    try {
      auto c = rt::Container::load(root_, id);
      const rt::Status status = c.state().status;
      if (status == rt::Status::created || status == rt::Status::running) {
        // Killed and waited for here, reaping, rather than in destroy(),
        // whose wait does not reap the namespace's zombies.
        try {
          c.kill(SIGKILL, true);
        } catch (const crius::Error& e) {
          if (e.code() != ErrorCode::failed_precondition) throw;  // stopped meanwhile
        }
        wait_reaping(c.pid(), kRemoveWaitMs, on_reaped);
      }
      c.destroy(true);
    } catch (const crius::Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
  }

  pid_t exec(const std::string& id, const nlohmann::json& process, const int stdio[3],
             Fd* pty_master) override {
    auto c = rt::Container::load(root_, id);
    nlohmann::json doc = {{"ociVersion", "1.0.2"}, {"process", process}, {"root", {{"path", "rootfs"}}}};
    Spec spec = parse_spec(doc);
    rt::ExecOptions o;
    for (int i = 0; i < 3; ++i) o.stdio[i] = stdio[i];
    Fd ours, theirs;
    if (pty_master) {
      console_pair("an exec in " + id, &ours, &theirs);
      o.console_fd = theirs.get();
    }
    const pid_t pid = rt::exec_process(c, *spec.process, o);
    if (pty_master) {
      theirs.reset();
      try {
        *pty_master = receive_pty_master(ours.get(), id);
      } catch (...) {
        // Reaped by the monitor's loop as any child it does not track.
        ::kill(pid, SIGKILL);
        throw;
      }
    }
    return pid;
  }

 private:
  std::string root_;
  std::string dir_;
  bool systemd_cgroup_;
};

}  // namespace

std::unique_ptr<RuntimeHandler> make_builtin_handler(const Handler& h, const std::string& dir) {
  return std::make_unique<BuiltinHandler>(h, dir);
}

}  // namespace crius::oci::monitor
