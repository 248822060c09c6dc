// The monitor's setup and its loop: signals, reaping, client connections
// and the op table. The ops themselves are in ops_container.cpp,
// ops_exec.cpp and ops_stream.cpp.
#include "oci/monitor/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "oci/cgroups/cgroup.h"
#include "oci/cgroups/join.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/server_internal.h"

namespace crius::oci::monitor {

namespace detail {

using nlohmann::json;

namespace {

// How long the loop waits with nothing to do before giving pages back (see
// IdleTrim): long enough that a burst of requests (create, start, status)
// is not slowed by refaults in between, short enough to be in effect
// whenever anyone looks.
constexpr int kIdleTrimMs = 500;

}  // namespace

std::string required_string(const json& req, const char* key) {
  auto it = req.find(key);
  if (it == req.end() || !it->is_string()) throw InvalidArgument(std::string("monitor request: missing ") + key);
  return it->get<std::string>();
}

Monitor::Monitor(const MonitorOptions& o) : o_(o), ready_(o.ready_fd) {
  handler_ = o.handler.binary.empty() ? make_builtin_handler(o.handler, o.dir)
                                       : make_external_handler(o.handler, o.dir);
  // Handled once the request that reaped them is answered (see reap).
  handler_->on_reaped = [this](pid_t pid, int status) { reaped_.emplace_back(pid, status); };
}

void Monitor::add(Watch* w, int fd, uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.ptr = w;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl add");
}

void Monitor::unwatch(int fd) {
  // Fails only for an fd that is not registered, which is fine.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Monitor::setup() {
  const std::string& dir = o_.dir;
  mkdir_all(dir, 0700);
  mkdir_all(dir + "/exits", 0700);

  // One monitor per directory: a second one started by a racing client exits.
  const std::string lock_path = dir + "/" + protocol::kLockName;
  lock_ = open_fd(lock_path, O_RDWR | O_CREAT, 0600);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) throw AlreadyExists("another monitor holds " + lock_path);
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(lock_.get(), 0) != 0 || ::pwrite(lock_.get(), pid.data(), pid.size(), 0) < 0)
    throw_errno("write the monitor's pid into " + lock_path);

  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw_errno("PR_SET_CHILD_SUBREAPER");
  // v1: this thread alone, without the global lock (join.h); the monitor has
  // no other thread. v2, when not born there: the whole process.
  for (const auto& cg : o_.cgroup_dirs) {
    if (cgroups::is_v2_dir(cg))
      cgroups::write_cgroup_file(cg, "cgroup.procs", "0");
    else
      cgroups::move_thread(cg);
  }

  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGPIPE}) sigaddset(&set, s);
  // SIGPIPE stays blocked (and never read): a write to a closed pipe or
  // socket fails with EPIPE instead of killing the monitor. Blocking rather
  // than ignoring it, because an ignored disposition would pass to containers.
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  sigdelset(&set, SIGPIPE);
  sigfd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd_) throw_errno("signalfd");

  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_errno("epoll_create1");

  socket_path_ = dir + "/" + protocol::kSocketName;
  protocol::SocketPath short_path(socket_path_);
  struct sockaddr_un a;
  const socklen_t alen = short_path.fill(&a);
  listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_) throw_errno("socket");
  ::unlink(socket_path_.c_str());  // stale: we hold the lock
  mode_t old = ::umask(0077);
  int r = ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), alen);
  ::umask(old);
  if (r != 0) throw_errno("bind " + socket_path_);
  if (::listen(listen_.get(), 64) != 0) throw_errno("listen on " + socket_path_);

  sig_watch_.fn = [this](uint32_t) { on_signal(); };
  listen_watch_.fn = [this](uint32_t) { on_accept(); };
  add(&sig_watch_, sigfd_.get(), EPOLLIN);
  add(&listen_watch_, listen_.get(), EPOLLIN);
}

void Monitor::report_ready(const std::string& text) {
  if (!ready_) return;
  // The starting client takes a missing report as a failed start and shows
  // the monitor's log instead, so a failed write needs no more than that.
  if (!write_all(ready_.get(), text.data(), text.size()))
    log::warn("reporting to the starting client failed", {{"error", std::strerror(errno)}});
  ready_.reset();
}

int Monitor::run() {
  try {
    setup();
  } catch (const std::exception& e) {
    log::error("monitor setup failed", {{"dir", o_.dir}, {"error", e.what()}});
    report_ready(std::string("setup failed: ") + e.what() + "\n");
    return 1;
  }
  report_ready("ok\n");
  trim_.init();
  log::info("monitor serving", {{"socket", socket_path_}, {"pod", o_.pod_id},
                                {"handler", o_.handler.name.empty() ? "builtin" : o_.handler.name}});
  struct epoll_event events[16];
  bool busy = true;  // since the last trim
  while (!exit_now_ && !(exit_when_empty_ && ctrs_.empty() && execs_.empty() && stream_execs_.empty())) {
    int n = ::epoll_wait(epoll_.get(), events, 16, busy ? kIdleTrimMs : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error("epoll_wait failed", {{"error", std::strerror(errno)}});
      return 1;
    }
    if (n == 0) {
      trim_.trim();
      busy = false;
      continue;
    }
    busy = true;
    for (int i = 0; i < n; ++i) {
      auto* w = static_cast<Watch*>(events[i].data.ptr);
      if (w->retired) continue;
      try {
        w->on_event(events[i].events);
      } catch (const std::exception& e) {
        log::error("event handling failed", {{"error", e.what()}});
      }
    }
    graveyard_.clear();
  }
  // Pending replies (the shutdown answer) go out before the socket closes.
  for (auto& [id, c] : conns_) c->send_rest();
  ::unlink(socket_path_.c_str());
  ::unlink((o_.dir + "/" + protocol::kLockName).c_str());
  log::info("monitor exiting", {{"pod", o_.pod_id}});
  return 0;
}

void Monitor::on_signal() {
  struct signalfd_siginfo si;
  bool child = false;
  while (::read(sigfd_.get(), &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      child = true;
    } else {
      log::info("signal received: exiting once no container is left",
                {{"signal", std::to_string(si.ssi_signo)}});
      exit_when_empty_ = true;
    }
  }
  if (child) reap();
}

void Monitor::reap() {
  // First the exits the runtime handler reaped (a remove that waited).
  for (auto pending = std::exchange(reaped_, {}); const auto& [pid, status] : pending) on_reaped(pid, status);
  for (;;) {
    int status;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    on_reaped(pid, status);
  }
}

void Monitor::on_reaped(pid_t pid, int status) {
  if (auto it = execs_.find(pid); it != execs_.end()) {
    on_exec_exit(*it->second, status);
    return;
  }
  if (auto it = stream_execs_.find(pid); it != stream_execs_.end()) {
    on_stream_exec_exit(*it->second, status);
    return;
  }
  for (auto& [id, c] : ctrs_) {
    if (c->pid == pid && !c->exit) {
      on_container_exit(*c, status);
      return;
    }
  }
}

void Monitor::on_accept() {
  for (;;) {
    Fd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return;
    const uint64_t id = next_conn_++;
    auto c = std::make_unique<Connection>(id, std::move(fd), [this](Connection* cc, uint32_t ev) { on_conn(cc, ev); });
    add(c.get(), c->fd(), EPOLLIN | EPOLLRDHUP);
    conns_[id] = std::move(c);
  }
}

void Monitor::close_conn(Connection* c) {
  auto it = conns_.find(c->id());
  if (it == conns_.end()) return;
  // A stream's owner lets go of it first (an exec hangs up, an attach ends).
  if (auto gone = std::exchange(c->on_close, nullptr)) gone();
  c->on_frame = nullptr;
  c->on_drained = nullptr;
  unwatch(c->fd());
  c->close();
  retire(it->second);
  conns_.erase(it);
}

void Monitor::flush_conn(Connection* c) {
  if (!c->send_some()) {
    close_conn(c);
    return;
  }
  rearm(c);
  if (!c->has_output() && c->close_after) {
    close_conn(c);
    return;
  }
  // A stream whose client caught up: its process's output is read again.
  if (c->on_drained) c->on_drained();
}

void Monitor::send(Connection* c, const json& msg) {
  c->queue(msg);
  flush_conn(c);
}

void Monitor::on_conn(Connection* c, uint32_t ev) {
  if (ev & EPOLLOUT) {
    flush_conn(c);
    if (c->retired) return;
  }
  if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !c->receive()) {
    // EOF: a pending exec_sync reply has nowhere to go; the exec runs on
    // and is reaped as usual. A stream's process is hung up (close_conn).
    close_conn(c);
    return;
  }
  serve(c);
}

void Monitor::serve(Connection* c) {
  while (!c->busy && !c->retired) {
    auto req = c->next_request();
    if (!req) break;
    dispatch(c, *req);
  }
  // A refused frame's answer, after which the connection closes.
  if (c->close_after && !c->retired) flush_conn(c);
  // What a stream's client sent along with or right after its request.
  if (c->streaming() && !c->retired) serve_frames(c);
}

void Monitor::dispatch(Connection* c, const json& req) {
  bool async = false;
  json resp;
  try {
    resp = handle(c, req, &async);
  } catch (const crius::Error& e) {
    resp = protocol::error_response(e);
  } catch (const std::exception& e) {
    resp = protocol::error_response(ErrorCode::internal, e.what());
  }
  if (async) {
    c->busy = true;
  } else {
    send(c, resp);
  }
  // Exits reaped while this request waited: an exec_sync answered, a
  // container's exit recorded, only now that the request is done.
  if (!reaped_.empty()) reap();
}

json Monitor::handle(Connection* c, const json& req, bool* async) {
  const std::string op = required_string(req, "op");
  if (op == "hello") return {{"ok", true}, {"version", protocol::kVersion}, {"pid", ::getpid()}};
  if (op == "create") return op_create(req);
  if (op == "start") return op_start(req);
  if (op == "kill") return op_kill(req);
  if (op == "update") return op_update(req);
  if (op == "remove") {
    op_remove(required_string(req, "id"));
    return {{"ok", true}};
  }
  if (op == "status") return {{"ok", true}, {"container", info(get(required_string(req, "id")))}};
  if (op == "list") {
    json list = json::array();
    for (const auto& [id, ct] : ctrs_) list.push_back(info(*ct));
    return {{"ok", true}, {"containers", list}};
  }
  if (op == "exec_sync") {
    op_exec_sync(c, req);
    *async = true;
    return {};
  }
  if (op == "reopen_log") return op_reopen_log(req);
  if (op == "exec") return op_exec(c, req);
  if (op == "attach") return op_attach(c, req);
  if (op == "shutdown") return op_shutdown();
  throw crius::Error(ErrorCode::unimplemented, "monitor: unknown op " + op);
}

json Monitor::op_shutdown() {
  if (!ctrs_.empty())
    throw FailedPrecondition("monitor of pod " + o_.pod_id + " still has " + std::to_string(ctrs_.size()) +
                             " container(s)");
  exit_now_ = true;
  return {{"ok", true}};
}

}  // namespace detail

int run_monitor(const MonitorOptions& opts) {
  detail::Monitor m(opts);
  return m.run();
}

}  // namespace crius::oci::monitor
