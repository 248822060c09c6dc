// The stream ops (see protocol.h): exec, a process whose stdio travels as
// frames on its connection, and attach, clients that get a copy of a
// container's output and may write to its stdin. A stream's connection is
// closed by the monitor after the exit frame, or when its client goes.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "base/error.h"
#include "base/log.h"
#include "oci/monitor/exit_record.h"
#include "oci/monitor/server_internal.h"

namespace crius::oci::monitor::detail {

using nlohmann::json;
using protocol::Channel;
using protocol::Frame;

namespace {

// A resize frame applied to a terminal; a malformed one is ignored (the
// stream goes on, as a terminal ignores a bad size).
void resize(int master, const Frame& f) {
  try {
    const json j = protocol::decode(f.payload);
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(j.value("width", 0u));
    ws.ws_row = static_cast<unsigned short>(j.value("height", 0u));
    if (ws.ws_col == 0 || ws.ws_row == 0) return;
    if (::ioctl(master, TIOCSWINSZ, &ws) != 0)
      log::debug("resizing a terminal failed", {{"error", std::strerror(errno)}});
  } catch (const std::exception& e) {
    log::debug("malformed resize frame ignored", {{"error", e.what()}});
  }
}

// Signals the process group the exec'd process leads (the runtimes make it a
// session leader), or the process alone when it leads none.
void signal_group(pid_t pid, int sig) {
  if (::kill(-pid, sig) != 0) ::kill(pid, sig);
}

Fd dup_fd(int fd, const std::string& what) {
  Fd d(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!d) throw_errno("dup " + what);
  return d;
}

}  // namespace

void Monitor::rearm(Connection* c) {
  struct epoll_event ev {};
  ev.events = (c->reading ? uint32_t{EPOLLIN | EPOLLRDHUP} : 0u) | (c->has_output() ? uint32_t{EPOLLOUT} : 0u);
  ev.data.ptr = c;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c->fd(), &ev);
}

void Monitor::push(Connection* c) {
  // A failure shows again as the socket's error event, which closes it.
  (void)c->send_some();
  rearm(c);
}

void Monitor::serve_frames(Connection* c) {
  while (!c->retired && c->reading && c->on_frame) {
    std::optional<Frame> f;
    try {
      f = c->next_frame();
    } catch (const crius::Error& e) {
      log::warn("stream frame refused: closing the connection", {{"error", e.what()}});
      close_conn(c);
      return;
    }
    if (!f) return;
    c->on_frame(*f);
  }
}

// ---- exec

json Monitor::op_exec(Connection* c, const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  if (ct.status != "running") throw FailedPrecondition("cannot exec in container " + ct.id + ": it is " + ct.status);
  auto it = req.find("process");
  if (it == req.end() || !it->is_object()) throw InvalidArgument("exec: missing process");
  json process = *it;
  const bool tty = req.value("tty", false);
  const bool want_stdin = req.value("stdin", false);
  process["terminal"] = tty;

  auto e = std::make_unique<StreamExec>();
  e->conn_id = c->id();
  e->ctr_id = ct.id;
  e->tty = tty;
  const Fd devnull = open_fd("/dev/null", O_RDWR);
  Fd out_w, err_w, in_r, in_w, master;
  int stdio[3] = {devnull.get(), devnull.get(), devnull.get()};
  if (!tty) {
    e->out = output_pipe(&out_w, "exec stdout in " + ct.id);
    e->err = output_pipe(&err_w, "exec stderr in " + ct.id);
    stdio[1] = out_w.get();
    stdio[2] = err_w.get();
    if (want_stdin) {
      auto [r, w] = make_pipe(("exec stdin in " + ct.id).c_str());
      in_r = std::move(r);
      in_w = std::move(w);
      stdio[0] = in_r.get();
    }
  }
  e->pid = handler_->exec(ct.id, process, stdio, tty ? &master : nullptr);
  out_w.reset();
  err_w.reset();
  in_r.reset();
  try {
    if (tty) {
      if (::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK) != 0)
        throw_errno("make the pty master of an exec in " + ct.id + " non-blocking");
      // Stdin goes to the master through its own fd, so that its EPOLLOUT
      // is watched apart from the output's EPOLLIN.
      if (want_stdin) in_w = dup_fd(master.get(), "the pty master of an exec in " + ct.id);
      e->out = std::make_unique<OutputPipe>();
      e->out->fd = std::move(master);
    }
    if (in_w) e->in = make_sink(std::move(in_w), "the stdin of an exec in " + ct.id);
  } catch (...) {
    // Not tracked yet: killed here, reaped by the loop as any stray child.
    signal_group(e->pid, SIGKILL);
    throw;
  }

  StreamExec* raw = e.get();
  for (auto* p : {&e->out, &e->err}) {
    if (!*p) continue;
    OutputPipe* pp = p->get();
    const Channel ch = p == &e->err ? Channel::stderr : Channel::stdout;
    pp->on_data = [this, raw, ch](const char* d, size_t n) { exec_output(*raw, ch, d, n); };
    pp->on_eof = [this, pp] { unwatch(pp->fd.get()); };
    add(pp, pp->fd.get(), EPOLLIN);
  }
  c->on_frame = [this, raw](const Frame& f) { exec_frame(*raw, f); };
  c->on_close = [this, raw] { exec_client_gone(*raw); };
  c->on_drained = [this, raw, c] {
    if (raw->paused && c->output_size() < kStreamOutputCap) pause_exec(*raw, false);
  };
  c->start_stream();
  const pid_t pid = e->pid;
  stream_execs_[pid] = std::move(e);
  log::debug("exec stream started", {{"id", ct.id}, {"pid", std::to_string(pid)}, {"tty", tty ? "yes" : "no"}});
  return {{"ok", true}, {"pid", pid}};
}

void Monitor::exec_frame(StreamExec& e, const Frame& f) {
  switch (f.channel) {
    case Channel::stdin:
      if (!e.in) return;  // no stdin asked for, or closed
      if (f.payload.empty()) {
        // A terminal stays open: its EOF is the ^D its user types.
        if (!e.tty) sink_close(e.in);
        return;
      }
      if (auto it = conns_.find(e.conn_id); it != conns_.end()) sink_write(*e.in, f.payload, it->second.get());
      return;
    case Channel::resize:
      if (e.tty && e.out) resize(e.out->fd.get(), f);
      return;
    default:
      return;  // output and exit channels go the other way
  }
}

void Monitor::exec_output(StreamExec& e, Channel ch, const char* d, size_t n) {
  auto it = conns_.find(e.conn_id);
  if (e.conn_id == 0 || it == conns_.end()) return;
  Connection* c = it->second.get();
  c->queue_frame(ch, {d, n});
  push(c);
  if (!e.paused && !e.exited && c->output_size() >= kStreamOutputCap) pause_exec(e, true);
}

void Monitor::pause_exec(StreamExec& e, bool pause) {
  e.paused = pause;
  for (auto* p : {&e.out, &e.err}) {
    if (!*p || (*p)->eof) continue;
    if (pause)
      unwatch((*p)->fd.get());
    else
      add(p->get(), (*p)->fd.get(), EPOLLIN);
  }
}

void Monitor::exec_client_gone(StreamExec& e) {
  e.conn_id = 0;
  if (e.exited) return;
  // As a terminal hanging up: stdin and the terminal close, the process
  // group gets SIGHUP, and SIGKILL if it outlives the grace period.
  sink_drop(e.in);
  for (auto* p : {&e.out, &e.err}) {
    if (!*p) continue;
    unwatch((*p)->fd.get());
    (*p)->fd.reset();
    retire(*p);
  }
  signal_group(e.pid, SIGHUP);
  if (e.kill_timer) return;
  auto t = std::make_unique<Timer>();
  t->fd.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  struct itimerspec its {};
  its.it_value.tv_sec = kHangupGraceMs / 1000;
  its.it_value.tv_nsec = (kHangupGraceMs % 1000) * 1000000L;
  if (!t->fd || ::timerfd_settime(t->fd.get(), 0, &its, nullptr) != 0) {
    // No grace without a timer: nothing may be left running unowned.
    log::warn("no timer for the hang-up grace: killing the exec now",
              {{"pid", std::to_string(e.pid)}, {"error", std::strerror(errno)}});
    signal_group(e.pid, SIGKILL);
    return;
  }
  StreamExec* raw = &e;
  t->on_fire = [raw] {
    if (!raw->exited) signal_group(raw->pid, SIGKILL);
  };
  add(t.get(), t->fd.get(), EPOLLIN);
  e.kill_timer = std::move(t);
}

void Monitor::on_stream_exec_exit(StreamExec& e, int status) {
  e.exited = true;
  const int code = exit_info(status).exit_code;
  // What it wrote before exiting goes out before the exit frame, bounded:
  // a leftover process may keep the pipe open and writing.
  for (auto* p : {&e.out, &e.err})
    if (*p) (*p)->drain(kExitDrain);
  if (auto it = conns_.find(e.conn_id); e.conn_id != 0 && it != conns_.end()) {
    Connection* c = it->second.get();
    c->on_frame = nullptr;
    c->on_close = nullptr;
    c->on_drained = nullptr;
    c->queue_frame(Channel::exit, protocol::exit_payload(code));
    c->close_after = true;
    flush_conn(c);
  }
  for (auto* p : {&e.out, &e.err}) {
    if (!*p) continue;
    unwatch((*p)->fd.get());
    retire(*p);
  }
  sink_drop(e.in);
  if (e.kill_timer) unwatch(e.kill_timer->fd.get());
  retire(e.kill_timer);
  log::debug("exec stream ended",
             {{"id", e.ctr_id}, {"pid", std::to_string(e.pid)}, {"exit_code", std::to_string(code)}});
  const pid_t pid = e.pid;  // e goes with its entry
  stream_execs_.erase(pid);
}

// ---- attach

json Monitor::op_attach(Connection* c, const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  if (ct.status != "running")
    throw FailedPrecondition("cannot attach to container " + ct.id + ": it is " + ct.status);
  // As cri-o: stdin asked of a container that has none is not an error; the
  // attach goes on without it.
  bool with_stdin = req.value("stdin", false) && ct.stdin && !ct.stdin_closed;
  if (with_stdin && !ct.in) {
    if (ct.tty && ct.out)
      ct.in = make_sink(dup_fd(ct.out->fd.get(), "the pty master of " + ct.id), "the terminal of " + ct.id);
    else if (!ct.tty && ct.stdin_w)
      ct.in = make_sink(std::move(ct.stdin_w), "the stdin of " + ct.id);
  }
  with_stdin = with_stdin && ct.in;
  const std::string id = ct.id;
  const uint64_t conn_id = c->id();
  c->on_frame = [this, id, conn_id, with_stdin](const Frame& f) { attach_frame(id, conn_id, with_stdin, f); };
  c->on_close = [this, id, conn_id, with_stdin] { detach(id, conn_id, with_stdin); };
  c->start_stream();
  ct.attached.push_back(conn_id);
  log::debug("attached", {{"id", id}, {"stdin", with_stdin ? "yes" : "no"}});
  return {{"ok", true}, {"tty", ct.tty}};
}

void Monitor::attach_frame(const std::string& id, uint64_t conn_id, bool with_stdin, const Frame& f) {
  auto it = ctrs_.find(id);
  if (it == ctrs_.end()) return;
  Ctr& ct = *it->second;
  switch (f.channel) {
    case Channel::stdin: {
      if (!with_stdin || !ct.in) return;
      if (f.payload.empty()) {
        // The client's EOF closes the container's stdin only with
        // stdin_once (else it stays open for the next attach), and never a
        // terminal (its EOF is the ^D typed).
        if (ct.stdin_once && !ct.tty) {
          ct.stdin_closed = true;
          sink_close(ct.in);
        }
        return;
      }
      auto c = conns_.find(conn_id);
      sink_write(*ct.in, f.payload, c == conns_.end() ? nullptr : c->second.get());
      return;
    }
    case Channel::resize:
      if (ct.tty && ct.out) resize(ct.out->fd.get(), f);
      return;
    default:
      return;
  }
}

void Monitor::detach(const std::string& id, uint64_t conn_id, bool with_stdin) {
  auto it = ctrs_.find(id);
  if (it == ctrs_.end()) return;
  Ctr& ct = *it->second;
  std::erase(ct.attached, conn_id);
  // stdin_once: the first client that used stdin takes it with it.
  if (with_stdin && ct.stdin_once && !ct.stdin_closed) {
    ct.stdin_closed = true;
    if (!ct.tty) sink_close(ct.in);
  }
}

void Monitor::attach_output(Ctr& ct, Channel ch, const char* d, size_t n) {
  for (const uint64_t id : std::vector<uint64_t>(ct.attached)) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Connection* c = it->second.get();
    c->queue_frame(ch, {d, n});
    push(c);
    if (c->output_size() > kAttachBacklogCap) {
      // The container's output is never held up for one slow client.
      log::warn("an attach client fell behind the container's output: disconnected",
                {{"id", ct.id}, {"buffered", std::to_string(c->output_size())}});
      close_conn(c);
    }
  }
}

void Monitor::detach_all(Ctr& ct) {
  for (const uint64_t id : std::exchange(ct.attached, {})) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Connection* c = it->second.get();
    c->on_frame = nullptr;
    c->on_close = nullptr;
    if (!ct.exit) {
      close_conn(c);
      continue;
    }
    c->queue_frame(Channel::exit, protocol::exit_payload(ct.exit->exit_code));
    c->close_after = true;
    flush_conn(c);
  }
}

}  // namespace crius::oci::monitor::detail
