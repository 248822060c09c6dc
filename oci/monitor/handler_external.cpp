// The external handler: a runc-compatible binary driven by its command line.
// Each command is waited for (bounded); the container's init and exec'd
// processes outlive the runtime command and are reparented to the monitor,
// which is a child subreaper.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <exception>
#include <optional>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/process.h"
#include "base/spawn.h"
#include "base/strings.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/runtime_handler.h"

namespace crius::oci::monitor {

namespace {

constexpr int kCommandTimeoutMs = 60000;

struct CommandResult {
  int status = 0;  // wait status
  std::string output;
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

std::string read_fd_all(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

// Runs argv with stdio (fds, -1: a memory file that captures the output) and
// waits for it at most kCommandTimeoutMs. With `reaped`, other children that
// exit meanwhile are reaped and passed to it (a `delete --force` waits for an
// init that waits for its namespace's zombies, our children). Not
// run_process: the container's own stdio is passed through, and the wait
// must reap.
CommandResult run(const std::vector<std::string>& argv, const int stdio_in[3], const Reaped* reaped = nullptr) {
  Fd capture(::memfd_create("runtime-output", MFD_CLOEXEC));
  if (!capture) throw_errno("memfd_create");
  Fd devnull = open_fd("/dev/null", O_RDWR);
  int stdio[3] = {stdio_in[0] >= 0 ? stdio_in[0] : devnull.get(), stdio_in[1] >= 0 ? stdio_in[1] : capture.get(),
                  stdio_in[2] >= 0 ? stdio_in[2] : capture.get()};
  SpawnOptions o;
  o.args = argv;
  o.fds = {{stdio[0], 0}, {stdio[1], 1}, {stdio[2], 2}};
  const Spawned child = spawn(o);
  if (child.pid < 0) throw_errno("run " + argv[0], child.error);
  const pid_t pid = child.pid;

  CommandResult r;
  if (reaped) {
    if (!wait_reaping(pid, kCommandTimeoutMs, *reaped, &r.status)) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
      }
    }
    r.output = trim(read_fd_all(capture.get()));
    return r;
  }
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd) {
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    int n;
    do {
      n = ::poll(&p, 1, kCommandTimeoutMs);
    } while (n < 0 && errno == EINTR);
    if (n == 0) ::kill(pid, SIGKILL);
  }
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  r.output = trim(read_fd_all(capture.get()));
  return r;
}

std::string describe(const CommandResult& r) {
  std::string s;
  if (WIFEXITED(r.status))
    s = "exit status " + std::to_string(WEXITSTATUS(r.status));
  else if (WIFSIGNALED(r.status))
    s = WTERMSIG(r.status) == SIGKILL ? "killed (timed out?)" : "signal " + std::to_string(WTERMSIG(r.status));
  if (!r.output.empty()) s += ": " + r.output;
  return s;
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

bool says_not_found(const std::string& output) {
  return contains(output, "not exist") || contains(output, "not found");
}

// The error for a failed runtime command `m`, its code guessed from what
// the runtime printed.
crius::Error command_error(const std::string& m, const std::string& output) {
  if (says_not_found(output)) return NotFound(m);
  if (contains(output, "not running") || contains(output, "stopped") || contains(output, "cannot start") ||
      contains(output, "is not") || contains(output, "paused"))
    return FailedPrecondition(m);
  return Internal(m);
}

// The pid a runtime wrote to a --pid-file; nullopt when there is none.
std::optional<pid_t> read_pid_file(const std::string& path) {
  const std::string text = trim(read_file_or_empty(path));
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

// The monitor's own environment, which every runtime command gets.
std::vector<std::string> environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  return env;
}

// A unix socket listening at path (named by `name`, short enough for the
// runtime to connect to); the runtime connects and sends the pty master.
Fd listen_at(const std::string& path, const protocol::SocketPath& name) {
  struct sockaddr_un a;
  const socklen_t len = name.fill(&a);
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("console socket");
  ::unlink(path.c_str());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) != 0) throw_errno("bind console socket " + path);
  if (::listen(s.get(), 1) != 0) throw_errno("listen on console socket " + path);
  return s;
}

// Removes the paths when it goes out of scope (the runtime's scratch files).
struct Unlink {
  std::vector<std::string> paths;
  explicit Unlink(std::vector<std::string> p) : paths(std::move(p)) {}
  Unlink(const Unlink&) = delete;
  Unlink& operator=(const Unlink&) = delete;
  ~Unlink() {
    for (const auto& p : paths) ::unlink(p.c_str());
  }
};

class ExternalHandler : public RuntimeHandler {
 public:
  ExternalHandler(const Handler& h, std::string dir) : h_(h), dir_(std::move(dir)) {}

  pid_t create(const std::string& id, const std::string& bundle, const int stdio[3], bool tty,
               Fd* pty_master) override {
    const std::string pid_file = dir_ + "/" + id + ".pid";
    const std::string log = dir_ + "/" + id + ".runtime.log";
    const std::string console = dir_ + "/" + id + ".console";
    ::unlink(pid_file.c_str());
    ::unlink(log.c_str());
    Unlink scratch({pid_file, log});
    Fd listener;
    std::optional<protocol::SocketPath> console_name;
    auto argv = base(log);
    argv.insert(argv.end(), {"create", "--bundle", bundle, "--pid-file", pid_file});
    CommandResult r;
    {
      Unlink console_socket({});
      if (tty) {
        console_name.emplace(console);
        console_socket.paths.push_back(console);
        listener = listen_at(console, *console_name);
        argv.insert(argv.end(), {"--console-socket", console_name->get()});
      }
      argv.push_back(id);
      r = run(argv, stdio);
    }
    if (!r.ok()) {
      const std::string log_text = trim(read_file_or_empty(log));
      cleanup(id);
      throw Internal(h_.name + ": create " + id + ": " + describe(r) + (log_text.empty() ? "" : ": " + log_text));
    }
    const std::optional<pid_t> pid = read_pid_file(pid_file);
    if (!pid) {
      cleanup(id);
      throw Internal(h_.name + ": create " + id + ": no pid in " + pid_file);
    }
    if (tty) {
      try {
        int fl = ::fcntl(listener.get(), F_GETFL);
        ::fcntl(listener.get(), F_SETFL, fl | O_NONBLOCK);
        Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) throw_errno("accept on console socket of " + id);
        *pty_master = receive_pty_master(conn.get(), id);
      } catch (...) {
        cleanup(id);
        throw;
      }
    }
    return *pid;
  }

  void start(const std::string& id) override {
    auto argv = base("");
    argv.insert(argv.end(), {"start", id});
    check(run(argv, kNoStdio), "start", id);
  }

  void kill(const std::string& id, int signal, bool all) override {
    auto argv = base("");
    argv.push_back("kill");
    // Without cgroups (rootless, no delegation) runc finds "all" through the
    // cgroup it has not got; the container's own PID namespace goes with
    // its init instead.
    if (all && cgroups::may_create_cgroups()) argv.push_back("--all");
    argv.insert(argv.end(), {id, std::to_string(signal)});
    check(run(argv, kNoStdio), "kill", id);
  }

  // `update --resources -`: runc and crun read the linux.resources object
  // from stdin.
  void update(const std::string& id, const nlohmann::json& resources) override {
    auto argv = base("");
    argv.insert(argv.end(), {"update", "--resources", "-", id});
    const ProcessResult r =
        run_process(argv, environment(), resources.dump(), std::chrono::milliseconds(kCommandTimeoutMs));
    const std::string what = h_.name + ": update " + id;
    if (r.timed_out)
      throw DeadlineExceeded(what + ": " + h_.binary + " did not finish within " +
                             std::to_string(kCommandTimeoutMs / 1000) + "s");
    if (r.exit_code == 0) return;
    const std::string output = trim(r.err.empty() ? r.out : r.err);
    throw command_error(what + ": " + h_.binary + " failed (exit " + std::to_string(r.exit_code) + ")" +
                            (output.empty() ? "" : ": " + output),
                        output);
  }

  void remove(const std::string& id) override {
    auto argv = base("");
    argv.insert(argv.end(), {"delete", "--force", id});
    auto r = run(argv, kNoStdio, &on_reaped);
    if (!r.ok() && !says_not_found(r.output)) check(r, "delete", id);
  }

  pid_t exec(const std::string& id, const nlohmann::json& process, const int stdio[3],
             Fd* pty_master) override {
    const std::string n = std::to_string(++exec_seq_);
    const std::string process_file = dir_ + "/" + id + ".exec" + n + ".json";
    const std::string pid_file = dir_ + "/" + id + ".exec" + n + ".pid";
    const std::string log = dir_ + "/" + id + ".exec" + n + ".log";
    const std::string console = dir_ + "/" + id + ".exec" + n + ".console";
    Unlink scratch({process_file, pid_file, log, console});
    write_file(process_file, process.dump(), O_CREAT | O_TRUNC);
    auto argv = base(log);
    argv.insert(argv.end(), {"exec", "--process", process_file, "--detach", "--pid-file", pid_file});
    // As create does: the runtime connects to the console socket and sends
    // the pty master before it exits (--detach); it waits in the backlog.
    Fd listener;
    std::optional<protocol::SocketPath> console_name;
    if (pty_master) {
      console_name.emplace(console);
      listener = listen_at(console, *console_name);
      argv.insert(argv.end(), {"--tty", "--console-socket", console_name->get()});
    }
    argv.push_back(id);
    auto r = run(argv, stdio);
    if (!r.ok()) {
      r.output = trim(read_file_or_empty(log));
      check(r, "exec in", id);
    }
    const std::optional<pid_t> pid = read_pid_file(pid_file);
    if (!pid) throw Internal(h_.name + ": exec in " + id + ": no pid in " + pid_file);
    if (pty_master) {
      try {
        ::fcntl(listener.get(), F_SETFL, ::fcntl(listener.get(), F_GETFL) | O_NONBLOCK);
        Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) throw_errno("accept on the console socket of an exec in " + id);
        *pty_master = receive_pty_master(conn.get(), id);
      } catch (...) {
        // Reaped by the monitor's loop as any child it does not track.
        ::kill(*pid, SIGKILL);
        throw;
      }
    }
    return *pid;
  }

 private:
  static constexpr int kNoStdio[3] = {-1, -1, -1};

  std::vector<std::string> base(const std::string& log) const {
    std::vector<std::string> argv = {h_.binary};
    if (!h_.root.empty()) argv.push_back("--root=" + h_.root);
    if (!log.empty()) argv.push_back("--log=" + log);
    if (h_.systemd_cgroup) argv.push_back("--systemd-cgroup");
    return argv;
  }

  void check(const CommandResult& r, const std::string& verb, const std::string& id) const {
    if (r.ok()) return;
    throw command_error(h_.name + ": " + verb + " " + id + ": " + describe(r), r.output);
  }

  // Deletes a container whose create failed half-way.
  void cleanup(const std::string& id) {
    try {
      remove(id);
    } catch (const std::exception& e) {
      // The create error is what the caller must see; the leftover is named here.
      log::warn("removing a half-created container failed", {{"id", id}, {"error", e.what()}});
    }
  }

  Handler h_;
  std::string dir_;
  unsigned exec_seq_ = 0;
};

}  // namespace

std::unique_ptr<RuntimeHandler> make_external_handler(const Handler& h, const std::string& dir) {
  return std::make_unique<ExternalHandler>(h, dir);
}

}  // namespace crius::oci::monitor
