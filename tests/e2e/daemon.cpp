#include "tests/e2e/daemon.h"
#include "tests/fixtures/registry/registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace crius::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "crius-e2e-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int free_tcp_port() { return fixtures::free_loopback_port(); }

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& out_path, const std::string& err_path, bool hide_v2_controllers = false,
            const DaemonOptions::User* user = nullptr) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (hide_v2_controllers) {
    // A mount namespace of its own (host mounts still propagate in) where
    // the v2 mount lists no controllers.
    const char* controllers = "/sys/fs/cgroup/unified/cgroup.controllers";
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
        (::access(controllers, F_OK) == 0 && ::mount("/dev/null", controllers, nullptr, MS_BIND, nullptr) != 0))
      ::_exit(126);
  }
  // Child: unblock everything the test runner may have blocked.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(out, 1);
  ::dup2(err, 2);
  if (user) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(user->gid) != 0 || ::setuid(user->uid) != 0) ::_exit(126);
    ::clearenv();
    ::setenv("HOME", user->home.c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", user->runtime_dir.c_str(), 1);
    ::setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  }
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  ::_exit(127);
}

// Waits for pid up to timeout; kills it when it overstays. Returns the exit code.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

CommandResult run_crius(const std::vector<std::string>& args, int timeout_seconds) {
  TempDir dir;
  std::vector<std::string> argv{CRIUS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, {}, dir / "out", dir / "err");
  CommandResult r;
  r.exit_code = wait_exit(pid, std::chrono::seconds(timeout_seconds));
  r.out = read_file(dir / "out");
  r.err = read_file(dir / "err");
  return r;
}

std::vector<std::string> Daemon::args() const {
  if (options_.user)
    return {CRIUS_BINARY, "--config", dir_ / "crius.yaml", "--network-cni-config-dir", dir_ / "cni",
            "--metrics-address", metrics_address()};
  return {CRIUS_BINARY,
          "--config",
          dir_ / "crius.yaml",
          "--root",
          dir_ / "root",
          "--state",
          dir_ / "state",
          "--network-cni-config-dir",
          dir_ / "cni",
          "--metrics-address",
          metrics_address()};
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)), metrics_port_(free_tcp_port()) {
  write_file(dir_ / "crius.yaml", options_.config_yaml);
  fs::create_directories(dir_ / "cni");
  if (options_.user)  // the daemon's log files stay ours to open; the rest is the user's to read
    for (const auto& p : {dir_.path(), dir_ / "crius.yaml", dir_ / "cni"})
      if (::chown(p.c_str(), options_.user->uid, options_.user->gid) != 0)
        throw std::runtime_error("chown " + p + " to the daemon's user");
  start();
}

// Under sanitizers (CRIUS_SANITIZE), the daemon and what inherits its
// environment (crius-monitor, whose stderr is a log under the pod's state,
// crius-pause) write their reports to <dir>/sanitizer.<pid>; the reports fail
// the test in ~Daemon. The options given to the test runner are kept.
namespace {

std::map<std::string, std::string> with_sanitizer_log(std::map<std::string, std::string> env,
                                                      [[maybe_unused]] const std::string& prefix) {
#ifdef CRIUS_SANITIZE
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    std::string& v = env[name];
    if (v.empty() && std::getenv(name)) v = std::getenv(name);
    v += (v.empty() ? "" : ":") + std::string("log_path=") + prefix;
  }
#endif
  return env;
}

// The sanitizer reports under dir that name an error (not a warning).
[[maybe_unused]] std::string sanitizer_errors(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.path().filename().string().starts_with("sanitizer.")) continue;
    const std::string text = read_file(e.path());
    if (text.find("ERROR: ") != std::string::npos || text.find("runtime error") != std::string::npos ||
        text.find("WARNING: ThreadSanitizer") != std::string::npos)
      out += "--- " + e.path().string() + "\n" + text;
  }
  return out;
}

}  // namespace

void Daemon::start() {
  auto argv = args();
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  argv.insert(argv.begin(), options_.wrapper.begin(), options_.wrapper.end());
  pid_ = spawn(argv, with_sanitizer_log(options_.env, dir_ / "sanitizer"), dir_ / "stdout", dir_ / "stderr",
               options_.hide_cgroup_v2_controllers, options_.user ? &*options_.user : nullptr);
  if (!options_.wait_ready) return;
  if (!wait_for_log("crius is serving the CRI")) {
    stop(SIGKILL);
    throw std::runtime_error("crius did not become ready; its log:\n" + log());
  }
}

void Daemon::restart() {
  if (pid_ > 0) stop(SIGTERM);
  std::error_code ec;
  fs::rename(dir_ / "stderr", dir_ / "stderr.before-restart", ec);
  {
    std::lock_guard lock(channel_mu_);
    channel_.reset();
  }
  start();
}

Daemon::~Daemon() {
#ifdef CRIUS_SANITIZE
  // A clean exit, so that LeakSanitizer looks at the daemon's heap.
  if (pid_ > 0) stop(SIGTERM);
  if (const std::string errors = sanitizer_errors(dir_.path()); !errors.empty())
    ADD_FAILURE() << "sanitizer reports of crius or its helpers:\n" << errors;
#endif
  if (pid_ > 0) stop(SIGKILL);
}

bool Daemon::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  return true;
}

int Daemon::stop(int signal) {
  if (pid_ > 0) {
    ::kill(pid_, signal);
    exit_code_ = wait_exit(pid_, 15s);
    pid_ = -1;
  }
  return exit_code_;
}

std::string Daemon::log() const { return read_file(dir_ / "stderr"); }

bool Daemon::wait_for_log(const std::string& needle, int timeout_ms) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

bool Daemon::reload(const std::string& config_yaml) {
  // Counted, since every earlier reload left the same lines.
  auto count = [this](const std::string& needle) {
    const std::string text = log();
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  // Either format: msg="config reloaded" or "msg":"config reloaded".
  const std::string reloaded = "config reloaded\"", refused = "\"config reload failed";
  const size_t ok = count(reloaded), failed = count(refused);
  write_file(dir_ / "crius.yaml", config_yaml);
  if (pid_ <= 0 || ::kill(pid_, SIGHUP) != 0) return false;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (count(reloaded) > ok) return true;
    if (count(refused) > failed) return false;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::shared_ptr<grpc::Channel> Daemon::channel() {
  std::lock_guard lock(channel_mu_);
  if (!channel_) channel_ = grpc::CreateChannel("unix:" + socket(), grpc::InsecureChannelCredentials());
  return channel_;
}

std::unique_ptr<runtime::v1::RuntimeService::Stub> Daemon::runtime() {
  return runtime::v1::RuntimeService::NewStub(channel());
}

std::unique_ptr<runtime::v1::ImageService::Stub> Daemon::image() { return runtime::v1::ImageService::NewStub(channel()); }

std::string http_get(const std::string& host_port, const std::string& path) {
  auto colon = host_port.rfind(':');
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host_port + "\r\n\r\n";
  if (::write(fd, req.data(), req.size()) < 0) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return response;
}

}  // namespace crius::test
