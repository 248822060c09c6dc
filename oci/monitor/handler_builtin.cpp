// The builtin handler: the oci/runtime library in process. create() clones
// the init from this (single-threaded) process, so it is our child.
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "conf/error.h"
#include "oci/monitor/runtime_handler.h"
#include "oci/runtime/container.h"
#include "oci/runtime/sys.h"
#if __has_include("oci/runtime/exec.h") && defined(CRIUS_MONITOR_HAVE_EXEC)
#include "oci/runtime/exec.h"
#endif

namespace crius::oci::monitor {

namespace rt = crius::oci::runtime;

int receive_fd(int sock, const std::string& what) {
  char byte;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) rt::throw_errno("receive " + what);
  for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  throw Internal("receive " + what + ": no file descriptor in the message");
}

namespace {

// As long as destroy() waits for an init after SIGKILL.
constexpr int kRemoveWaitMs = 10000;

class BuiltinHandler : public RuntimeHandler {
 public:
  BuiltinHandler(const Handler& h, std::string dir)
      : root_(h.root), dir_(std::move(dir)), systemd_cgroup_(h.systemd_cgroup) {}

  pid_t create(const std::string& id, const std::string& bundle, const int stdio[3], bool tty,
               int* pty_master) override {
    rt::CreateOptions o;
    o.bundle = bundle;
    o.systemd_cgroup = systemd_cgroup_;
    rt::Fd ours, theirs;
    if (tty) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) rt::throw_errno("console socketpair for " + id);
      ours.reset(sv[0]);
      theirs.reset(sv[1]);
      o.console_fd = theirs.get();
    }
    for (int i = 0; i < 3; ++i) o.stdio[i] = stdio[i];
    auto c = rt::Container::create(root_, id, o);
    if (tty) {
      theirs.reset();
      try {
        *pty_master = receive_fd(ours.get(), "the pty master of " + id);
      } catch (...) {
        try {
          c.destroy(true);
        } catch (...) {
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

  pid_t exec(const std::string& id, const nlohmann::json& process, const int stdio[3]) override {
#if defined(CRIUS_MONITOR_HAVE_EXEC)
    auto c = rt::Container::load(root_, id);
    nlohmann::json doc = {{"ociVersion", "1.0.2"}, {"process", process}, {"root", {{"path", "rootfs"}}}};
    Spec spec = parse_spec(doc);
    rt::ExecOptions o;
    for (int i = 0; i < 3; ++i) o.stdio[i] = stdio[i];
    return rt::exec_process(c, *spec.process, o);
#else
    (void)id;
    (void)process;
    (void)stdio;
    throw Unimplemented("exec in the builtin runtime is not built yet (oci/runtime/exec.cpp missing)");
#endif
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
