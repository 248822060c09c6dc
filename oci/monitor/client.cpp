#include "oci/monitor/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/spawn.h"
#include "oci/monitor/exit_record.h"
#include "oci/monitor/protocol.h"

namespace crius::oci::monitor {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(5);
// Create, start, kill, update, remove run the OCI runtime; an external one can be slow.
constexpr auto kCallTimeout = std::chrono::seconds(120);

Error unavailable(const std::string& m) { return {ErrorCode::unavailable, m}; }

std::string socket_path(const std::string& dir) { return dir + "/" + protocol::kSocketName; }

// A connected socket, or an invalid Fd when nothing listens there.
Fd dial(const std::string& dir) {
  std::optional<protocol::SocketPath> path;
  try {
    path.emplace(socket_path(dir));
  } catch (const crius::Error& e) {
    if (e.code() == ErrorCode::not_found) return {};  // no directory: no monitor
    throw;
  }
  struct sockaddr_un a;
  const socklen_t len = path->fill(&a);
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket");
  int r;
  do {
    r = ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), len);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return {};
  return s;
}

// deadline == time_point::max(): none.
int remaining_ms(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Sends one request and reads one response on s.
json exchange(int s, const std::string& dir, const json& request, Clock::time_point deadline) {
  const std::string frame = protocol::encode(request);
  // send with MSG_NOSIGNAL: a monitor that died must not SIGPIPE the daemon.
  for (size_t off = 0; off < frame.size();) {
    ssize_t n = ::send(s, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw unavailable(errno_text("send to the monitor at " + dir, errno));
    off += static_cast<size_t>(n);
  }
  std::string in;
  size_t want = 4;
  char buf[64 * 1024];
  while (in.size() < want) {
    struct pollfd p = {s, POLLIN, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0)
      throw unavailable("the monitor at " + dir + " did not answer " + request.value("op", std::string()) + " in time");
    // No further than the response: a stream's frames may follow it.
    ssize_t r = ::read(s, buf, std::min(sizeof buf, want - in.size()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      throw unavailable("the monitor at " + dir + " closed the connection during " +
                        request.value("op", std::string()));
    in.append(buf, r);
    if (want == 4 && in.size() >= 4) {
      want = 4 + size_t{protocol::frame_length(reinterpret_cast<const unsigned char*>(in.data()))};
      if (want > 4 + size_t{protocol::kMaxMessage}) throw Internal("the monitor at " + dir + " sent an oversized message");
    }
  }
  json resp = protocol::decode(std::string_view(in).substr(4, want - 4));
  if (!resp.value("ok", false))
    throw crius::Error(protocol::code_from_name(resp.value("code", std::string("internal"))),
                       resp.value("message", std::string("monitor error")));
  return resp;
}

ContainerInfo info_from_json(const json& j) {
  ContainerInfo c;
  c.id = j.value("id", std::string());
  c.pid = j.value("pid", 0);
  c.status = j.value("status", std::string());
  c.created_at = j.value("created_at", int64_t{0});
  c.started_at = j.value("started_at", int64_t{0});
  if (auto it = j.find("exit"); it != j.end() && it->is_object()) c.exit = exit_from_json(*it);
  return c;
}

// The last n bytes of a file, "" when it cannot be read.
std::string tail(const std::string& path, size_t n) {
  std::string text = read_file_or_empty(path);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.size() > n ? text.substr(text.size() - n) : text;
}

}  // namespace

std::optional<Client> Client::connect(const std::string& dir) {
  Fd s = dial(dir);
  if (!s) return std::nullopt;
  json resp;
  try {
    resp = exchange(s.get(), dir, {{"op", "hello"}, {"version", protocol::kVersion}},
                    Clock::now() + std::chrono::seconds(5));
  } catch (const crius::Error& e) {
    if (e.code() == ErrorCode::unavailable) return std::nullopt;
    throw;
  }
  return Client(dir, resp.value("version", 0), resp.value("pid", 0));
}

pid_t Client::lock_holder(const std::string& dir) {
  const Fd lock(::open((dir + "/" + protocol::kLockName).c_str(), O_RDONLY | O_CLOEXEC));
  if (!lock || ::flock(lock.get(), LOCK_SH | LOCK_NB) == 0) return 0;  // none, or nobody holds it
  if (errno != EWOULDBLOCK) return 0;
  char buf[32];
  const ssize_t n = ::pread(lock.get(), buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = 0;
  const pid_t pid = static_cast<pid_t>(std::atoi(buf));
  // A child that still shares the lock (between fork and exec) may outlive
  // the monitor whose pid this is: only a monitor of this dir counts.
  const std::string want = std::string("--dir") + '\0' + dir + '\0';
  if (pid <= 0) return 0;
  const std::string cmdline = read_file_or_empty("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find(want) == std::string::npos ? 0 : pid;
}

Client Client::start(const StartOptions& o) {
  if (auto c = connect(o.dir)) return *c;
  if (o.binary.empty()) throw InvalidArgument("no crius-monitor binary configured");
  mkdir_all(o.dir, 0700);

  std::vector<std::string> args = {o.binary, "--dir", o.dir, "--pod-id", o.pod_id};
  if (!o.handler.name.empty()) args.insert(args.end(), {"--handler-name", o.handler.name});
  if (!o.handler.binary.empty()) args.insert(args.end(), {"--runtime-binary", o.handler.binary});
  if (!o.handler.root.empty()) args.insert(args.end(), {"--runtime-root", o.handler.root});
  if (o.handler.systemd_cgroup) args.push_back("--systemd-cgroup");
  for (const auto& cg : o.cgroup_dirs) args.insert(args.end(), {"--cgroup-dir", cg});
  args.insert(args.end(), {"--ready-fd", "3"});
  args.push_back("--detach");

  const std::string log_path = o.dir + "/monitor.log";
  const Fd log = open_fd(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
  const Fd devnull = open_fd("/dev/null", O_RDONLY);
  // The monitor reports on this pipe (its fd 3) once it serves ("ok") or
  // why it could not start; EOF without "ok" means it died.
  auto [ready_r, ready_w] = make_pipe("the ready report of crius-monitor");

  // In a session of its own, and nobody's child but its subreaper's (or
  // init's) once it has detached (forked and left its parent to exit, which
  // is cheap in the small monitor and not in the daemon), so that it outlives
  // the daemon.
  SpawnOptions spawn_options;
  spawn_options.args = std::move(args);
  spawn_options.fds = {{devnull.get(), 0}, {log.get(), 1}, {log.get(), 2}, {ready_w.get(), 3}};
  spawn_options.new_session = true;
  spawn_options.cwd = "/";
  const Spawned child = spawn(spawn_options);
  if (child.pid < 0) throw unavailable(errno_text("starting " + o.binary, child.error));
  int status;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }

  ready_w.reset();
  std::string report;
  const auto deadline = Clock::now() + kStartTimeout;
  for (;;) {
    struct pollfd p = {ready_r.get(), POLLIN, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    char buf[512];
    ssize_t r = ::read(ready_r.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    report.append(buf, r);
  }
  // Also when a racing start won the monitor's lock: its monitor answers.
  if (auto c = connect(o.dir)) return *c;
  if (report.starts_with("ok")) report.clear();
  while (!report.empty() && report.back() == '\n') report.pop_back();
  if (report.empty()) report = tail(log_path, 400);
  throw unavailable("crius-monitor for pod " + o.pod_id + " did not start on " + socket_path(o.dir) +
                    (report.empty() ? "" : ": " + report));
}

json Client::call(const json& request) {
  Fd s = dial(dir_);
  if (!s) throw unavailable(errno_text("connect to the monitor at " + socket_path(dir_), errno));
  Clock::time_point deadline = Clock::now() + kCallTimeout;
  if (request.value("op", std::string()) == "exec_sync") {
    const int64_t t = request.value("timeout_ms", int64_t{0});
    if (t == 0)
      deadline = Clock::time_point::max();
    else
      deadline = Clock::now() + std::chrono::milliseconds(t) + kCallTimeout;
  }
  return exchange(s.get(), dir_, request, deadline);
}

pid_t Client::create(const ContainerOptions& o) {
  json r = call({{"op", "create"},
                 {"id", o.id},
                 {"bundle", o.bundle},
                 {"log_path", o.log_path},
                 {"log_size_max", o.log_size_max},
                 {"tty", o.tty},
                 {"stdin", o.stdin},
                 {"stdin_once", o.stdin_once}});
  return r.value("pid", 0);
}

void Client::start(const std::string& id) { call({{"op", "start"}, {"id", id}}); }

void Client::kill(const std::string& id, int signal, bool all) {
  call({{"op", "kill"}, {"id", id}, {"signal", signal}, {"all", all}});
}

void Client::update_resources(const std::string& id, const json& resources) {
  if (version_ < protocol::kUpdateVersion)
    throw Unimplemented("cannot update container " + id + ": the pod's monitor at " + dir_ +
                        " speaks protocol version " + std::to_string(version_) + ", updates need version " +
                        std::to_string(protocol::kUpdateVersion));
  call({{"op", "update"}, {"id", id}, {"resources", resources}});
}

void Client::remove(const std::string& id) { call({{"op", "remove"}, {"id", id}}); }

ContainerInfo Client::status(const std::string& id) {
  const json r = call({{"op", "status"}, {"id", id}});
  return info_from_json(r.at("container"));
}

std::vector<ContainerInfo> Client::list() {
  std::vector<ContainerInfo> out;
  const json r = call({{"op", "list"}});
  for (const auto& j : r.at("containers")) out.push_back(info_from_json(j));
  return out;
}

ExecResult Client::exec_sync(const std::string& id, const json& process, std::chrono::milliseconds timeout,
                             size_t output_cap) {
  json r = call({{"op", "exec_sync"},
                 {"id", id},
                 {"process", process},
                 {"timeout_ms", static_cast<int64_t>(timeout.count())},
                 {"output_cap", output_cap}});
  ExecResult x;
  x.exit_code = r.value("exit_code", -1);
  x.stdout_data = protocol::bytes_of(r["stdout"]);
  x.stderr_data = protocol::bytes_of(r["stderr"]);
  x.timed_out = r.value("timed_out", false);
  return x;
}

StreamConn Client::open_stream(const std::string& what, const std::string& id, const json& request) {
  if (version_ < protocol::kStreamVersion)
    throw Unimplemented("cannot " + what + " container " + id + ": the pod's monitor at " + dir_ +
                        " speaks protocol version " + std::to_string(version_) + ", streams need version " +
                        std::to_string(protocol::kStreamVersion) + "; recreate the pod to get a newer monitor");
  // A connection of its own: it carries frames once answered.
  Fd s = dial(dir_);
  if (!s) throw unavailable(errno_text("connect to the monitor at " + socket_path(dir_), errno));
  const json r = exchange(s.get(), dir_, request, Clock::now() + kCallTimeout);
  StreamConn out;
  out.fd = std::move(s);
  out.pid = r.value("pid", 0);
  out.tty = r.value("tty", request.value("tty", false));
  return out;
}

StreamConn Client::exec_stream(const std::string& id, const json& process, bool tty, bool stdin) {
  return open_stream("exec in", id,
                     {{"op", "exec"}, {"id", id}, {"process", process}, {"tty", tty}, {"stdin", stdin}});
}

StreamConn Client::attach_stream(const std::string& id, bool stdin) {
  return open_stream("attach to", id, {{"op", "attach"}, {"id", id}, {"stdin", stdin}});
}

void Client::reopen_log(const std::string& id) { call({{"op", "reopen_log"}, {"id", id}}); }

void Client::shutdown() {
  // Opened before the request, so that the PID cannot have been reused.
  const Fd gone(pid_ > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)) : -1);
  call({{"op", "shutdown"}});
  if (!gone) return;  // gone already (or a monitor too old to say its PID)
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  struct pollfd p = {gone.get(), POLLIN, 0};
  while (::poll(&p, 1, remaining_ms(deadline)) < 0 && errno == EINTR) {
  }
}

}  // namespace crius::oci::monitor
