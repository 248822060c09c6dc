// exec_sync: a process run in a container, its output collected (capped),
// killed at its deadline, and answered on its connection once it has
// exited and its output is drained; other requests are served meanwhile.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#include <algorithm>

#include "base/error.h"
#include "oci/monitor/exit_record.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/server_internal.h"

namespace crius::oci::monitor::detail {

using nlohmann::json;

void Monitor::op_exec_sync(Connection* c, const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  if (ct.status != "running") throw FailedPrecondition("cannot exec in container " + ct.id + ": it is " + ct.status);
  auto process = req.find("process");
  if (process == req.end() || !process->is_object()) throw InvalidArgument("exec_sync: missing process");
  auto e = std::make_unique<Exec>();
  e->conn_id = c->id();
  e->cap = req.value("output_cap", size_t{16} << 20);
  Fd out_w, err_w;
  e->out = output_pipe(&out_w, "exec stdout in " + ct.id);
  e->err = output_pipe(&err_w, "exec stderr in " + ct.id);
  const Fd devnull = open_fd("/dev/null", O_RDWR);
  const int stdio[3] = {devnull.get(), out_w.get(), err_w.get()};
  e->pid = handler_->exec(ct.id, *process, stdio, nullptr);
  out_w.reset();
  err_w.reset();

  Exec* raw = e.get();
  auto collect = [raw](std::string* dst) {
    return [raw, dst](const char* d, size_t n) {
      if (dst->size() < raw->cap) dst->append(d, std::min(n, raw->cap - dst->size()));
    };
  };
  e->out->on_data = collect(&e->out_data);
  e->err->on_data = collect(&e->err_data);
  for (auto* p : {&e->out, &e->err}) {
    OutputPipe* pp = p->get();
    pp->on_eof = [this, pp] { unwatch(pp->fd.get()); };
    add(pp, pp->fd.get(), EPOLLIN);
  }
  const int64_t timeout_ms = req.value("timeout_ms", int64_t{0});
  if (timeout_ms > 0) {
    e->timer = std::make_unique<Timer>();
    e->timer->fd.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!e->timer->fd) throw_errno("timerfd_create");
    struct itimerspec its {};
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000;
    if (::timerfd_settime(e->timer->fd.get(), 0, &its, nullptr) != 0) throw_errno("timerfd_settime");
    e->timer->on_fire = [raw] {
      raw->timed_out = true;
      // Its process group too (an exec'd process leads its own), so that a
      // shell's children do not outlive the timeout.
      if (::kill(-raw->pid, SIGKILL) != 0) ::kill(raw->pid, SIGKILL);
    };
    add(e->timer.get(), e->timer->fd.get(), EPOLLIN);
  }
  execs_[e->pid] = std::move(e);
}

void Monitor::on_exec_exit(Exec& e, int status) {
  for (auto* p : {&e.out, &e.err})
    if (*p) (*p)->drain(kExitDrain);
  json reply = {{"ok", true}};
  reply["exit_code"] = exit_info(status).exit_code;
  reply["stdout"] = protocol::bytes(e.out_data);
  reply["stderr"] = protocol::bytes(e.err_data);
  reply["timed_out"] = e.timed_out;
  if (auto it = conns_.find(e.conn_id); it != conns_.end()) {
    Connection* c = it->second.get();
    c->busy = false;
    send(c, reply);
    // Requests that arrived meanwhile.
    if (!c->retired) serve(c);
  }
  retire(e.out);
  retire(e.err);
  retire(e.timer);
  const pid_t pid = e.pid;
  execs_.erase(pid);
}

}  // namespace crius::oci::monitor::detail
