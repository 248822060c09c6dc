// The external handler: a runc-compatible binary driven by its command line.
// Each command is waited for (bounded); the container's init and exec'd
// processes outlive the runtime command and are reparented to the monitor,
// which is a child subreaper.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "conf/error.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/runtime_handler.h"
#include "oci/runtime/sys.h"

namespace crius::oci::monitor {

namespace rt = crius::oci::runtime;

namespace {

constexpr int kCommandTimeoutMs = 60000;

struct CommandResult {
  int status = 0;  // wait status
  std::string output;
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

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
// init that waits for its namespace's zombies, our children).
CommandResult run(const std::vector<std::string>& argv, const int stdio_in[3], const Reaped* reaped = nullptr) {
  rt::Fd capture(::memfd_create("runtime-output", MFD_CLOEXEC));
  if (!capture) rt::throw_errno("memfd_create");
  rt::Fd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  int stdio[3] = {stdio_in[0] >= 0 ? stdio_in[0] : devnull.get(), stdio_in[1] >= 0 ? stdio_in[1] : capture.get(),
                  stdio_in[2] >= 0 ? stdio_in[2] : capture.get()};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int i = 0; i < 3; ++i) posix_spawn_file_actions_adddup2(&fa, stdio[i], i);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t deflt;
  sigemptyset(&deflt);
  sigaddset(&deflt, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &deflt);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int err = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) rt::throw_errno("run " + argv[0], err);

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
  rt::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
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

// A unix socket listening at path (named by `name`, short enough for the
// runtime to connect to); the runtime connects and sends the pty master.
rt::Fd listen_at(const std::string& path, const protocol::SocketPath& name) {
  struct sockaddr_un a;
  const socklen_t len = name.fill(&a);
  rt::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) rt::throw_errno("console socket");
  ::unlink(path.c_str());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) != 0) rt::throw_errno("bind console socket " + path);
  if (::listen(s.get(), 1) != 0) rt::throw_errno("listen on console socket " + path);
  return s;
}

class ExternalHandler : public RuntimeHandler {
 public:
  ExternalHandler(const Handler& h, std::string dir) : h_(h), dir_(std::move(dir)) {}

  pid_t create(const std::string& id, const std::string& bundle, const int stdio[3], bool tty,
               int* pty_master) override {
    const std::string pid_file = dir_ + "/" + id + ".pid";
    const std::string log = dir_ + "/" + id + ".runtime.log";
    const std::string console = dir_ + "/" + id + ".console";
    ::unlink(pid_file.c_str());
    ::unlink(log.c_str());
    rt::Fd listener;
    std::optional<protocol::SocketPath> console_name;
    auto argv = base(log);
    argv.insert(argv.end(), {"create", "--bundle", bundle, "--pid-file", pid_file});
    if (tty) {
      console_name.emplace(console);
      listener = listen_at(console, *console_name);
      argv.insert(argv.end(), {"--console-socket", console_name->get()});
    }
    argv.push_back(id);
    CommandResult r;
    try {
      r = run(argv, stdio);
    } catch (...) {
      ::unlink(console.c_str());
      throw;
    }
    ::unlink(console.c_str());
    if (!r.ok()) {
      const std::string log_text = trim(rt_read(log));
      ::unlink(log.c_str());
      cleanup(id);
      throw Internal(h_.name + ": create " + id + ": " + describe(r) + (log_text.empty() ? "" : ": " + log_text));
    }
    ::unlink(log.c_str());
    pid_t pid = 0;
    try {
      pid = std::stoi(trim(rt_read(pid_file)));
    } catch (...) {
      cleanup(id);
      throw Internal(h_.name + ": create " + id + ": no pid in " + pid_file);
    }
    ::unlink(pid_file.c_str());
    if (tty) {
      try {
        int fl = ::fcntl(listener.get(), F_GETFL);
        ::fcntl(listener.get(), F_SETFL, fl | O_NONBLOCK);
        rt::Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) rt::throw_errno("accept on console socket of " + id);
        *pty_master = receive_fd(conn.get(), "the pty master of " + id);
      } catch (...) {
        cleanup(id);
        throw;
      }
    }
    return pid;
  }

  void start(const std::string& id) override {
    auto argv = base("");
    argv.insert(argv.end(), {"start", id});
    check(run(argv, kNoStdio), "start", id);
  }

  void kill(const std::string& id, int signal, bool all) override {
    auto argv = base("");
    argv.push_back("kill");
    if (all) argv.push_back("--all");
    argv.insert(argv.end(), {id, std::to_string(signal)});
    check(run(argv, kNoStdio), "kill", id);
  }

  void remove(const std::string& id) override {
    auto argv = base("");
    argv.insert(argv.end(), {"delete", "--force", id});
    auto r = run(argv, kNoStdio, &on_reaped);
    if (!r.ok() && !contains(r.output, "not exist") && !contains(r.output, "not found"))
      check(r, "delete", id);
  }

  pid_t exec(const std::string& id, const nlohmann::json& process, const int stdio[3]) override {
    const std::string n = std::to_string(++exec_seq_);
    const std::string process_file = dir_ + "/" + id + ".exec" + n + ".json";
    const std::string pid_file = dir_ + "/" + id + ".exec" + n + ".pid";
    const std::string log = dir_ + "/" + id + ".exec" + n + ".log";
    struct Cleanup {
      std::vector<std::string> paths;
      ~Cleanup() {
        for (auto& p : paths) ::unlink(p.c_str());
      }
    } cleanup{{process_file, pid_file, log}};
    rt::write_file(process_file, process.dump(), O_CREAT | O_TRUNC);
    auto argv = base(log);
    argv.insert(argv.end(), {"exec", "--process", process_file, "--detach", "--pid-file", pid_file, id});
    auto r = run(argv, stdio);
    if (!r.ok()) {
      r.output = trim(rt_read(log));
      check(r, "exec in", id);
    }
    try {
      return std::stoi(trim(rt_read(pid_file)));
    } catch (...) {
      throw Internal(h_.name + ": exec in " + id + ": no pid in " + pid_file);
    }
  }

 private:
  static constexpr int kNoStdio[3] = {-1, -1, -1};

  static std::string rt_read(const std::string& path) {
    try {
      return rt::read_file(path);
    } catch (...) {
      return {};
    }
  }

  std::vector<std::string> base(const std::string& log) const {
    std::vector<std::string> argv = {h_.binary};
    if (!h_.root.empty()) argv.push_back("--root=" + h_.root);
    if (!log.empty()) argv.push_back("--log=" + log);
    if (h_.systemd_cgroup) argv.push_back("--systemd-cgroup");
    return argv;
  }

  void check(const CommandResult& r, const std::string& verb, const std::string& id) const {
    if (r.ok()) return;
    const std::string m = h_.name + ": " + verb + " " + id + ": " + describe(r);
    if (contains(r.output, "not exist") || contains(r.output, "not found")) throw NotFound(m);
    if (contains(r.output, "not running") || contains(r.output, "stopped") || contains(r.output, "cannot start") ||
        contains(r.output, "is not") || contains(r.output, "paused"))
      throw FailedPrecondition(m);
    throw Internal(m);
  }

  void cleanup(const std::string& id) {
    try {
      remove(id);
    } catch (...) {
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
