// The container ops of the monitor (create, start, kill, update,
// reopen_log, remove, status) and what happens when a container's init
// exits: its exit record, its last output (to the log and attach clients),
// its status.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <exception>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "oci/monitor/exit_record.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/server_internal.h"

namespace crius::oci::monitor::detail {

using nlohmann::json;

namespace {

void check_id(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos || id.size() > 200)
    throw InvalidArgument("invalid container id \"" + id + "\"");
}

}  // namespace

Ctr& Monitor::get(const std::string& id) {
  auto it = ctrs_.find(id);
  if (it == ctrs_.end()) throw NotFound("container " + id + " not found in the pod's monitor");
  return *it->second;
}

json Monitor::info(const Ctr& c) const {
  json j = {{"id", c.id},
            {"pid", c.pid},
            {"status", c.status},
            {"created_at", c.created_at},
            {"started_at", c.started_at}};
  if (c.exit) j["exit"] = exit_to_json(*c.exit);
  return j;
}

json Monitor::op_create(const json& req) {
  auto ct = std::make_unique<Ctr>();
  ct->id = required_string(req, "id");
  check_id(ct->id);
  if (ctrs_.count(ct->id)) throw AlreadyExists("container " + ct->id + " already exists in the pod's monitor");
  const std::string bundle = required_string(req, "bundle");
  ct->tty = req.value("tty", false);
  ct->stdin_once = req.value("stdin_once", false);
  const bool want_stdin = req.value("stdin", false);
  ct->stdin = want_stdin;
  ct->log = std::make_unique<LogFile>(req.value("log_path", std::string()), req.value("log_size_max", uint64_t{0}));
  ct->log->open();

  const Fd devnull = open_fd("/dev/null", O_RDWR);
  Fd out_w, err_w, in_r;
  int stdio[3] = {devnull.get(), devnull.get(), devnull.get()};
  if (!ct->tty) {
    ct->out = output_pipe(&out_w, "stdout of " + ct->id);
    ct->err = output_pipe(&err_w, "stderr of " + ct->id);
    stdio[1] = out_w.get();
    stdio[2] = err_w.get();
    if (want_stdin) {
      auto [r, w] = make_pipe(("stdin of " + ct->id).c_str());
      in_r = std::move(r);
      ct->stdin_w = std::move(w);
      stdio[0] = in_r.get();
    }
  }
  remove_exit(o_.dir, ct->id);
  Fd master;
  ct->pid = handler_->create(ct->id, bundle, stdio, ct->tty, &master);
  ct->created_at = now_ns();
  out_w.reset();
  err_w.reset();
  in_r.reset();
  if (ct->tty) {
    if (::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK) != 0)
      throw_errno("make the pty master of " + ct->id + " non-blocking");
    ct->out = std::make_unique<OutputPipe>();
    ct->out->fd = std::move(master);
  }
  ct->oom = OomCounter::of(ct->pid);

  ct->out_log = std::make_unique<LogStream>(ct->log.get(), "stdout");
  ct->err_log = std::make_unique<LogStream>(ct->log.get(), "stderr");
  watch_output(*ct, ct->out, ct->out_log.get());
  watch_output(*ct, ct->err, ct->err_log.get());
  const pid_t pid = ct->pid;
  const std::string id = ct->id;
  ctrs_[id] = std::move(ct);
  log::info("container created", {{"id", id}, {"pid", std::to_string(pid)}});
  return {{"ok", true}, {"pid", pid}};
}

// Logs what the container writes on p to the stream s of its log file.
void Monitor::watch_output(Ctr& c, std::unique_ptr<OutputPipe>& p, LogStream* s) {
  if (!p) return;
  Ctr* ct = &c;
  OutputPipe* pp = p.get();
  const auto ch = s == c.err_log.get() ? protocol::Channel::stderr : protocol::Channel::stdout;
  p->on_data = [this, ct, s, ch](const char* d, size_t n) {
    s->feed(d, n);
    ct->log->flush();
    if (!ct->attached.empty()) attach_output(*ct, ch, d, n);
  };
  p->on_eof = [this, ct, s, pp] {
    s->finish();
    ct->log->flush();
    unwatch(pp->fd.get());
    if (ct->out.get() == pp) retire(ct->out);
    if (ct->err.get() == pp) retire(ct->err);
  };
  add(p.get(), p->fd.get(), EPOLLIN);
}

json Monitor::op_start(const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  if (ct.status != "created") throw FailedPrecondition("cannot start container " + ct.id + ": it is " + ct.status);
  handler_->start(ct.id);
  if (ct.status == "created") ct.status = "running";
  ct.started_at = now_ns();
  return {{"ok", true}};
}

json Monitor::op_kill(const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  if (ct.status == "stopped") throw FailedPrecondition("cannot signal container " + ct.id + ": it is stopped");
  handler_->kill(ct.id, req.value("signal", 15), req.value("all", false));
  return {{"ok", true}};
}

json Monitor::op_update(const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  auto resources = req.find("resources");
  if (resources == req.end() || !resources->is_object()) throw InvalidArgument("update: missing resources");
  // As the builtin runtime says it, whichever runtime the pod has.
  if (ct.status == "stopped") throw FailedPrecondition("cannot update container " + ct.id + ": it is stopped");
  handler_->update(ct.id, *resources);
  return {{"ok", true}};
}

json Monitor::op_reopen_log(const json& req) {
  Ctr& ct = get(required_string(req, "id"));
  if (ct.log) ct.log->reopen();
  return {{"ok", true}};
}

void Monitor::op_remove(const std::string& id) {
  auto it = ctrs_.find(id);
  if (it == ctrs_.end()) {
    remove_exit(o_.dir, id);
    return;
  }
  Ctr& c = *it->second;
  handler_->remove(id);
  // Attach clients get the exit frame when the exit is known, else are closed.
  detach_all(c);
  sink_drop(c.in);
  for (auto* p : {&c.out, &c.err}) {
    if (!*p) continue;
    (*p)->drain(kExitDrain);
    unwatch((*p)->fd.get());
    retire(*p);
  }
  c.out_log->finish();
  c.err_log->finish();
  c.log->flush();
  remove_exit(o_.dir, id);
  ctrs_.erase(it);
  log::info("container removed", {{"id", id}});
}

void Monitor::on_container_exit(Ctr& c, int status) {
  ExitInfo x = exit_info(status);
  if (c.oom) x.oom_killed = c.oom->fired();
  // The record comes first: whatever happens next, the exit is not lost.
  try {
    write_exit(o_.dir, c.id, x);
  } catch (const std::exception& e) {
    log::error("writing the exit record failed", {{"id", c.id}, {"error", e.what()}});
  }
  // Output written before the exit is in the pipes: log it before the exit
  // shows in status. Other processes may still hold the pipes open.
  for (auto* p : {&c.out, &c.err}) {
    if (*p && (*p)->drain(kExitDrain) && (*p)->on_eof) (*p)->on_eof();
  }
  if (c.log) c.log->flush();
  c.exit = x;
  c.status = "stopped";
  detach_all(c);
  log::info("container exited", {{"id", c.id}, {"exit_code", std::to_string(x.exit_code)}});
}

}  // namespace crius::oci::monitor::detail
