#include "oci/monitor/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "conf/error.h"
#include "conf/log.h"
#include "oci/monitor/exit_record.h"
#include "oci/monitor/idle_trim.h"
#include "oci/monitor/log_writer.h"
#include "oci/monitor/oom.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/runtime_handler.h"
#include "oci/runtime/sys.h"

namespace crius::oci::monitor {

namespace rt = crius::oci::runtime;
using nlohmann::json;

namespace {

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// One shared read buffer: the loop is single-threaded.
char g_buf[32 * 1024];
// What is drained at once when a process exits: more than any pipe buffer,
// bounded because a leftover process may keep the pipe open and writing.
constexpr size_t kExitDrain = 16 << 20;

// Anything the loop watches. Retired watches are kept until the end of the
// current epoll batch so that a pending event never reaches a freed object.
struct Watch {
  virtual ~Watch() = default;
  virtual void on_event(uint32_t events) = 0;
  bool retired = false;
};

// The read end of a stdio pipe (or a pty master).
struct Pipe : Watch {
  rt::Fd fd;
  std::function<void(const char*, size_t)> on_data;
  std::function<void()> on_eof;
  bool eof = false;

  // Reads until EAGAIN, EOF or `limit` bytes. Returns true at EOF.
  bool drain(size_t limit = SIZE_MAX) {
    size_t total = 0;
    while (!eof && total < limit) {
      ssize_t n = ::read(fd.get(), g_buf, sizeof g_buf);
      if (n > 0) {
        total += n;
        on_data(g_buf, n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return false;
      eof = true;  // 0, or EIO from a pty whose slave is closed
    }
    return eof;
  }
  void on_event(uint32_t) override {
    if (drain(1 << 20) && on_eof) on_eof();
  }
};

struct Timer : Watch {
  rt::Fd fd;
  std::function<void()> on_fire;
  void on_event(uint32_t) override {
    uint64_t n;
    (void)!::read(fd.get(), &n, sizeof n);
    on_fire();
  }
};

struct Callback : Watch {
  std::function<void(uint32_t)> fn;
  void on_event(uint32_t ev) override { fn(ev); }
};

struct Conn;

struct Ctr {
  std::string id;
  pid_t pid = 0;
  std::string status = "created";
  int64_t created_at = 0, started_at = 0;
  std::optional<ExitInfo> exit;
  std::unique_ptr<LogFile> log;
  std::unique_ptr<LogStream> out_log, err_log;
  std::unique_ptr<Pipe> out, err;
  rt::Fd stdin_w;  // kept for attach (next issue)
  bool tty = false, stdin_once = false;
  std::optional<OomCounter> oom;
};

struct Exec {
  uint64_t conn_id = 0;
  pid_t pid = 0;
  size_t cap = 0;
  std::unique_ptr<Pipe> out, err;
  std::unique_ptr<Timer> timer;
  std::string out_data, err_data;
  bool timed_out = false;
};

struct Conn : Watch {
  uint64_t id = 0;
  rt::Fd fd;
  std::string in, out;
  bool busy = false;          // an asynchronous reply is awaited
  bool close_after = false;   // close once `out` is written
  std::function<void(Conn*, uint32_t)> handler;
  void on_event(uint32_t ev) override { handler(this, ev); }
};

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& o) : o_(o) {
    handler_ = o.handler.binary.empty() ? make_builtin_handler(o.handler, o.dir)
                                         : make_external_handler(o.handler, o.dir);
    // Handled once the request that reaped them is answered (see reap).
    handler_->on_reaped = [this](pid_t pid, int status) { reaped_.emplace_back(pid, status); };
  }

  int run();

 private:
  void setup();
  void add(Watch* w, int fd, uint32_t events);
  template <typename T>
  void retire(std::unique_ptr<T>& w);

  void on_signal();
  void reap();
  void on_reaped(pid_t pid, int status);
  void on_container_exit(Ctr& c, int status);
  void on_exec_exit(Exec& e, int status);
  void on_accept();
  void on_conn(Conn* c, uint32_t ev);
  void close_conn(Conn* c);
  void send(Conn* c, const json& msg);
  void flush_conn(Conn* c);
  void dispatch(Conn* c, const json& req);
  json handle(Conn* c, const json& req, bool* async);

  Ctr& get(const std::string& id);
  json info(const Ctr& c) const;
  json op_create(const json& req);
  void op_remove(const std::string& id);
  void op_exec_sync(Conn* c, const json& req);
  std::unique_ptr<Pipe> output_pipe(int* write_end, const std::string& what);

  MonitorOptions o_;
  std::unique_ptr<RuntimeHandler> handler_;
  rt::Fd epoll_, sigfd_, listen_, lock_;
  Callback sig_watch_, listen_watch_;
  std::map<std::string, std::unique_ptr<Ctr>> ctrs_;
  std::map<pid_t, std::unique_ptr<Exec>> execs_;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Watch>> graveyard_;
  uint64_t next_conn_ = 1;
  bool exit_when_empty_ = false;
  bool exit_now_ = false;
  std::string socket_path_;
  IdleTrim trim_;
  // Exits reaped by the runtime handler while it waited, not yet handled.
  std::vector<std::pair<pid_t, int>> reaped_;
};

void Monitor::add(Watch* w, int fd, uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.ptr = w;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) rt::throw_errno("epoll_ctl add");
}

template <typename T>
void Monitor::retire(std::unique_ptr<T>& w) {
  if (!w) return;
  w->retired = true;
  graveyard_.push_back(std::move(w));
}

// How long the loop waits with nothing to do before giving pages back (see
// IdleTrim): long enough that a burst of requests (create, start, status)
// is not slowed by refaults in between, short enough to be in effect
// whenever anyone looks.
constexpr int kIdleTrimMs = 500;

void Monitor::setup() {
  const std::string& dir = o_.dir;
  rt::mkdir_all(dir, 0700);
  rt::mkdir_all(dir + "/exits", 0700);

  // One monitor per directory: a second one started by a racing client exits.
  lock_.reset(::open((dir + "/monitor.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_) rt::throw_errno("open " + dir + "/monitor.lock");
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
    throw AlreadyExists("another monitor holds " + dir + "/monitor.lock");

  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) rt::throw_errno("PR_SET_CHILD_SUBREAPER");
  for (const auto& cg : o_.cgroup_dirs) {
    const std::string procs = cg + "/cgroup.procs";
    rt::Fd f(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    const std::string pid = std::to_string(::getpid());
    if (!f || ::write(f.get(), pid.data(), pid.size()) < 0) rt::throw_errno("move the monitor into " + procs);
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
  if (!sigfd_) rt::throw_errno("signalfd");

  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) rt::throw_errno("epoll_create1");

  socket_path_ = dir + "/" + protocol::kSocketName;
  protocol::SocketPath short_path(socket_path_);
  struct sockaddr_un a;
  const socklen_t alen = short_path.fill(&a);
  listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_) rt::throw_errno("socket");
  ::unlink(socket_path_.c_str());  // stale: we hold the lock
  mode_t old = ::umask(0077);
  int r = ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), alen);
  ::umask(old);
  if (r != 0) rt::throw_errno("bind " + socket_path_);
  if (::listen(listen_.get(), 64) != 0) rt::throw_errno("listen on " + socket_path_);

  sig_watch_.fn = [this](uint32_t) { on_signal(); };
  listen_watch_.fn = [this](uint32_t) { on_accept(); };
  add(&sig_watch_, sigfd_.get(), EPOLLIN);
  add(&listen_watch_, listen_.get(), EPOLLIN);
}

int Monitor::run() {
  auto report = [this](const std::string& text) {
    if (o_.ready_fd < 0) return;
    (void)rt::write_all(o_.ready_fd, text.data(), text.size());
    ::close(o_.ready_fd);
    o_.ready_fd = -1;
  };
  try {
    setup();
  } catch (const std::exception& e) {
    log::error("monitor setup failed", {{"dir", o_.dir}, {"error", e.what()}});
    report(std::string("setup failed: ") + e.what() + "\n");
    return 1;
  }
  report("ok\n");
  trim_.init();
  log::info("monitor serving", {{"socket", socket_path_}, {"pod", o_.pod_id},
                                {"handler", o_.handler.name.empty() ? "builtin" : o_.handler.name}});
  struct epoll_event events[16];
  bool busy = true;  // since the last trim
  while (!exit_now_ && !(exit_when_empty_ && ctrs_.empty() && execs_.empty())) {
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
  for (auto& [id, c] : conns_) {
    int fl = ::fcntl(c->fd.get(), F_GETFL);
    ::fcntl(c->fd.get(), F_SETFL, fl & ~O_NONBLOCK);
    if (!c->out.empty()) rt::write_all(c->fd.get(), c->out.data(), c->out.size());
  }
  ::unlink(socket_path_.c_str());
  ::unlink((o_.dir + "/monitor.lock").c_str());
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
  for (auto& [id, c] : ctrs_) {
    if (c->pid == pid && !c->exit) {
      on_container_exit(*c, status);
      return;
    }
  }
}

ExitInfo exit_info(int status) {
  ExitInfo x;
  if (WIFSIGNALED(status)) {
    x.signal = WTERMSIG(status);
    x.exit_code = 128 + x.signal;
  } else {
    x.exit_code = WEXITSTATUS(status);
  }
  x.finished_at = now_ns();
  return x;
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
  log::info("container exited", {{"id", c.id}, {"exit_code", std::to_string(x.exit_code)}});
}

void Monitor::on_exec_exit(Exec& e, int status) {
  for (auto* p : {&e.out, &e.err})
    if (*p) (*p)->drain(kExitDrain);
  json reply = {{"ok", true}};
  ExitInfo x = exit_info(status);
  reply["exit_code"] = x.exit_code;
  reply["stdout"] = protocol::bytes(e.out_data);
  reply["stderr"] = protocol::bytes(e.err_data);
  reply["timed_out"] = e.timed_out;
  if (auto it = conns_.find(e.conn_id); it != conns_.end()) {
    Conn* c = it->second.get();
    c->busy = false;
    send(c, reply);
    // Requests that arrived meanwhile.
    if (!c->retired) on_conn(c, 0);
  }
  retire(e.out);
  retire(e.err);
  retire(e.timer);
  const pid_t pid = e.pid;
  execs_.erase(pid);
}

void Monitor::on_accept() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>();
    c->id = next_conn_++;
    c->fd.reset(fd);
    c->handler = [this](Conn* cc, uint32_t ev) { on_conn(cc, ev); };
    add(c.get(), fd, EPOLLIN | EPOLLRDHUP);
    conns_[c->id] = std::move(c);
  }
}

void Monitor::close_conn(Conn* c) {
  auto it = conns_.find(c->id);
  if (it == conns_.end()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c->fd.get(), nullptr);
  c->fd.reset();
  retire(it->second);
  conns_.erase(it);
}

void Monitor::flush_conn(Conn* c) {
  while (!c->out.empty()) {
    ssize_t n = ::send(c->fd.get(), c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) {
      close_conn(c);
      return;
    }
    c->out.erase(0, n);
  }
  struct epoll_event ev {};
  ev.events = EPOLLIN | EPOLLRDHUP | (c->out.empty() ? 0u : uint32_t{EPOLLOUT});
  ev.data.ptr = c;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c->fd.get(), &ev);
  if (c->out.empty()) {
    std::string().swap(c->out);
    if (c->close_after) close_conn(c);
  }
}

void Monitor::send(Conn* c, const json& msg) {
  try {
    c->out += protocol::encode(msg);
  } catch (const crius::Error& e) {
    c->out += protocol::encode(protocol::error_response(e));
  }
  flush_conn(c);
}

void Monitor::on_conn(Conn* c, uint32_t ev) {
  if (ev & EPOLLOUT) {
    flush_conn(c);
    if (c->retired) return;
  }
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    for (;;) {
      ssize_t n = ::read(c->fd.get(), g_buf, sizeof g_buf);
      if (n > 0) {
        c->in.append(g_buf, n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      // EOF: a pending exec reply has nowhere to go; the exec runs on and
      // is reaped as usual.
      close_conn(c);
      return;
    }
  }
  while (!c->busy && !c->retired && c->in.size() >= 4) {
    const uint32_t len = protocol::frame_length(reinterpret_cast<const unsigned char*>(c->in.data()));
    if (len > protocol::kMaxMessage) {
      c->close_after = true;
      send(c, protocol::error_response(ErrorCode::invalid_argument, "message too large"));
      return;
    }
    if (c->in.size() < 4 + size_t{len}) break;
    json req;
    try {
      req = protocol::decode(std::string_view(c->in).substr(4, len));
    } catch (const crius::Error& e) {
      c->close_after = true;
      send(c, protocol::error_response(e));
      return;
    }
    c->in.erase(0, 4 + size_t{len});
    dispatch(c, req);
  }
  if (c->in.empty()) std::string().swap(c->in);
}

void Monitor::dispatch(Conn* c, const json& req) {
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

std::string str(const json& req, const char* key) {
  auto it = req.find(key);
  if (it == req.end() || !it->is_string()) throw InvalidArgument(std::string("monitor request: missing ") + key);
  return it->get<std::string>();
}

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

json Monitor::handle(Conn* c, const json& req, bool* async) {
  const std::string op = str(req, "op");
  if (op == "hello") return {{"ok", true}, {"version", protocol::kVersion}, {"pid", ::getpid()}};
  if (op == "create") return op_create(req);
  if (op == "start") {
    Ctr& ct = get(str(req, "id"));
    if (ct.status != "created")
      throw FailedPrecondition("cannot start container " + ct.id + ": it is " + ct.status);
    handler_->start(ct.id);
    if (ct.status == "created") ct.status = "running";
    ct.started_at = now_ns();
    return {{"ok", true}};
  }
  if (op == "kill") {
    Ctr& ct = get(str(req, "id"));
    if (ct.status == "stopped") throw FailedPrecondition("cannot signal container " + ct.id + ": it is stopped");
    handler_->kill(ct.id, req.value("signal", 15), req.value("all", false));
    return {{"ok", true}};
  }
  if (op == "remove") {
    op_remove(str(req, "id"));
    return {{"ok", true}};
  }
  if (op == "status") return {{"ok", true}, {"container", info(get(str(req, "id")))}};
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
  if (op == "reopen_log") {
    Ctr& ct = get(str(req, "id"));
    if (ct.log) ct.log->reopen();
    return {{"ok", true}};
  }
  if (op == "shutdown") {
    if (!ctrs_.empty())
      throw FailedPrecondition("monitor of pod " + o_.pod_id + " still has " + std::to_string(ctrs_.size()) +
                               " container(s)");
    exit_now_ = true;
    return {{"ok", true}};
  }
  throw crius::Error(ErrorCode::unimplemented, "monitor: unknown op " + op);
}

std::unique_ptr<Pipe> Monitor::output_pipe(int* write_end, const std::string& what) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) rt::throw_errno("pipe for " + what);
  ::fcntl(p[0], F_SETFL, O_NONBLOCK);
  auto pipe = std::make_unique<Pipe>();
  pipe->fd.reset(p[0]);
  *write_end = p[1];
  return pipe;
}

void check_id(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos || id.size() > 200)
    throw InvalidArgument("invalid container id \"" + id + "\"");
}

json Monitor::op_create(const json& req) {
  auto ct = std::make_unique<Ctr>();
  ct->id = str(req, "id");
  check_id(ct->id);
  if (ctrs_.count(ct->id)) throw AlreadyExists("container " + ct->id + " already exists in the pod's monitor");
  const std::string bundle = str(req, "bundle");
  ct->tty = req.value("tty", false);
  ct->stdin_once = req.value("stdin_once", false);
  const bool want_stdin = req.value("stdin", false);
  ct->log = std::make_unique<LogFile>(req.value("log_path", std::string()), req.value("log_size_max", uint64_t{0}));
  ct->log->open();

  rt::Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  rt::Fd out_w, err_w, in_r;
  int stdio[3] = {devnull.get(), devnull.get(), devnull.get()};
  if (!ct->tty) {
    int w;
    ct->out = output_pipe(&w, "stdout of " + ct->id);
    out_w.reset(w);
    ct->err = output_pipe(&w, "stderr of " + ct->id);
    err_w.reset(w);
    stdio[1] = out_w.get();
    stdio[2] = err_w.get();
    if (want_stdin) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) rt::throw_errno("stdin pipe for " + ct->id);
      in_r.reset(p[0]);
      ct->stdin_w.reset(p[1]);
      stdio[0] = in_r.get();
    }
  }
  remove_exit(o_.dir, ct->id);
  int master = -1;
  ct->pid = handler_->create(ct->id, bundle, stdio, ct->tty, &master);
  ct->created_at = now_ns();
  out_w.reset();
  err_w.reset();
  in_r.reset();
  if (ct->tty) {
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    ct->out = std::make_unique<Pipe>();
    ct->out->fd.reset(master);
  }
  ct->oom = OomCounter::of(ct->pid);

  Ctr* raw = ct.get();
  ct->out_log = std::make_unique<LogStream>(ct->log.get(), "stdout");
  ct->err_log = std::make_unique<LogStream>(ct->log.get(), "stderr");
  auto wire = [this, raw](std::unique_ptr<Pipe>& p, LogStream* s) {
    if (!p) return;
    Pipe* pp = p.get();
    p->on_data = [raw, s](const char* d, size_t n) {
      s->feed(d, n);
      raw->log->flush();
    };
    p->on_eof = [this, raw, s, pp] {
      s->finish();
      raw->log->flush();
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pp->fd.get(), nullptr);
      if (raw->out.get() == pp) retire(raw->out);
      if (raw->err.get() == pp) retire(raw->err);
    };
    add(p.get(), p->fd.get(), EPOLLIN);
  };
  wire(ct->out, ct->out_log.get());
  wire(ct->err, ct->err_log.get());
  const pid_t pid = ct->pid;
  ctrs_[ct->id] = std::move(ct);
  log::info("container created", {{"id", raw->id}, {"pid", std::to_string(pid)}});
  return {{"ok", true}, {"pid", pid}};
}

void Monitor::op_remove(const std::string& id) {
  auto it = ctrs_.find(id);
  if (it == ctrs_.end()) {
    remove_exit(o_.dir, id);
    return;
  }
  Ctr& c = *it->second;
  handler_->remove(id);
  for (auto* p : {&c.out, &c.err}) {
    if (!*p) continue;
    (*p)->drain(kExitDrain);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, (*p)->fd.get(), nullptr);
    retire(*p);
  }
  c.out_log->finish();
  c.err_log->finish();
  c.log->flush();
  remove_exit(o_.dir, id);
  ctrs_.erase(it);
  log::info("container removed", {{"id", id}});
}

void Monitor::op_exec_sync(Conn* c, const json& req) {
  Ctr& ct = get(str(req, "id"));
  if (ct.status != "running") throw FailedPrecondition("cannot exec in container " + ct.id + ": it is " + ct.status);
  auto process = req.find("process");
  if (process == req.end() || !process->is_object()) throw InvalidArgument("exec_sync: missing process");
  auto e = std::make_unique<Exec>();
  e->conn_id = c->id;
  e->cap = req.value("output_cap", size_t{16} << 20);
  int w;
  e->out = output_pipe(&w, "exec stdout in " + ct.id);
  rt::Fd out_w(w);
  e->err = output_pipe(&w, "exec stderr in " + ct.id);
  rt::Fd err_w(w);
  rt::Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  const int stdio[3] = {devnull.get(), out_w.get(), err_w.get()};
  e->pid = handler_->exec(ct.id, *process, stdio);
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
    Pipe* pp = p->get();
    pp->on_eof = [this, pp] { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pp->fd.get(), nullptr); };
    add(pp, pp->fd.get(), EPOLLIN);
  }
  const int64_t timeout_ms = req.value("timeout_ms", int64_t{0});
  if (timeout_ms > 0) {
    e->timer = std::make_unique<Timer>();
    e->timer->fd.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!e->timer->fd) rt::throw_errno("timerfd_create");
    struct itimerspec its {};
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000;
    ::timerfd_settime(e->timer->fd.get(), 0, &its, nullptr);
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

}  // namespace

int run_monitor(const MonitorOptions& opts) {
  Monitor m(opts);
  return m.run();
}

}  // namespace crius::oci::monitor
