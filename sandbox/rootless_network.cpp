#include "sandbox/rootless_network.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/proc_stat.h"
#include "base/spawn.h"
#include "base/user_namespace.h"
#include "sandbox/namespaces.h"

namespace crius::sandbox {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// slirp4netns's side of the tap and where it forwards to: its defaults
// (10.0.2.0/24, we are .100, the host .2, DNS .3).
constexpr const char* kGuestAddress = "10.0.2.100";
constexpr auto kReadyTimeout = 10s;

// A namespace is pinned there (nsfs), not a bare file a crash left.
bool pinned(const std::string& path) {
  struct statfs fs;
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

// Starts slirp4netns on the namespace at `netns`, its own session (signals
// to the daemon's group do not reach it), output to `log_path`; returns its
// pid once it says it is ready.
pid_t start_slirp(const std::string& netns, const std::string& api_socket, const std::string& log_path) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe for slirp4netns's ready fd");
  Fd ready_r(p[0]), ready_w(p[1]);
  Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!log) throw_errno("opening " + log_path);
  const std::vector<std::string> args{"slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
                                      "--api-socket", api_socket, "--ready-fd=3", "--netns-type=path", netns, "tap0"};
  Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) throw_errno("opening /dev/null for slirp4netns");
  SpawnOptions o;
  o.args = args;
  o.fds = {{null.get(), 0}, {log.get(), 1}, {log.get(), 2}, {ready_w.get(), 3}};
  o.new_session = true;
  o.search_path = true;
  const Spawned s = spawn(o);
  if (s.pid < 0 && s.error == ENOENT)
    throw FailedPrecondition("the pods' network: slirp4netns is not installed (Debian's slirp4netns package provides it)");
  if (s.pid < 0) throw_errno("starting slirp4netns", s.error);
  const pid_t pid = s.pid;
  ready_w.reset();
  pollfd pfd{ready_r.get(), POLLIN, 0};
  char c = 0;
  const int n = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kReadyTimeout).count()));
  if (n == 1 && ::read(ready_r.get(), &c, 1) == 1 && c == '1') return pid;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // What slirp4netns said (its log is this start's alone).
  std::string why = read_file_if_exists(log_path).value_or("");
  if (why.size() > 400) why = why.substr(why.size() - 400);
  while (!why.empty() && why.back() == '\n') why.pop_back();
  throw FailedPrecondition("the pods' network: slirp4netns did not start: " +
                           (why.empty() ? std::string("no answer within 10s") : why) +
                           " (it needs /dev/net/tun open to the user, mode 0666 as Debian's udev rules make it)");
}

}  // namespace

bool RootlessNetwork::needed() { return in_user_namespace() && !owns_network_namespace(); }

RootlessNetwork::RootlessNetwork(const std::string& state_dir)
    : dir_(dir_of(state_dir)),
      netns_(dir_ + "/ns/net"),
      api_socket_(dir_ + "/slirp4netns.sock"),
      pid_file_(dir_ + "/slirp4netns.pid") {
  mkdir_all(dir_, 0700);
  pid_ = running_pid_in_file(pid_file_, "slirp4netns");
  if (pid_ > 0 && pinned(netns_)) {
    log::info("pods' network found from an earlier run", {{"netns", netns_}, {"slirp4netns_pid", std::to_string(pid_)}});
    return;
  }
  if (pid_ > 0) ::kill(pid_, SIGKILL);  // its namespace is gone: it serves nothing
  unpin_namespace(netns_);
  ::unlink(api_socket_.c_str());
  NamespaceRequest request;
  request.net = true;
  request.dir = dir_ + "/ns";
  PinnedNamespaces pins = PinnedNamespaces::create(request);
  pins.keep();
  try {
    pid_ = start_slirp(netns_, api_socket_, dir_ + "/slirp4netns.log");
  } catch (const Error& e) {
    // The daemon still serves (host-network pods work); Status says why
    // the network is not ready.
    failure_ = e.what();
    log::error("the pods' network has no way out", {{"error", failure_}});
    return;
  }
  try {
    write_file_atomic(pid_file_, std::to_string(pid_), 0600);
  } catch (...) {
    stop();  // a slirp4netns no pid file names would outlive us unseen
    throw;
  }
  log::info("pods' network started", {{"netns", netns_}, {"slirp4netns_pid", std::to_string(pid_)}});
}

std::string RootlessNetwork::problem() const {
  if (!failure_.empty()) return failure_;
  if (process_running(pid_)) return "";
  return "slirp4netns (pid " + std::to_string(pid_) + "), which connects the pods' network to the host, is gone; "
         "restart crius";
}

json RootlessNetwork::call(const json& request) const {
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket for slirp4netns's API");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (api_socket_.size() >= sizeof addr.sun_path) throw Internal("slirp4netns's API socket path is too long: " + api_socket_);
  api_socket_.copy(addr.sun_path, api_socket_.size());
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw Internal(errno_text("connecting to slirp4netns's API at " + api_socket_, errno));
  const timeval tv{5, 0};
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string out = request.dump();
  if (::send(s.get(), out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size()))
    throw Internal(errno_text("writing to slirp4netns's API", errno));
  ::shutdown(s.get(), SHUT_WR);
  std::string in;
  char buf[4096];
  for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Internal(errno_text("reading slirp4netns's API answer", errno));
    }
    in.append(buf, static_cast<size_t>(n));
  }
  json answer = json::parse(in, nullptr, false);
  if (!answer.is_object()) throw Internal("slirp4netns's API answered something that is not JSON: " + in);
  if (answer.contains("error"))
    throw FailedPrecondition("slirp4netns: " + answer["error"].value("desc", answer["error"].dump()));
  // add_hostfwd answers {"return": {…}}, list_hostfwd {"entries": […]}.
  return answer.contains("return") ? answer["return"] : answer;
}

void RootlessNetwork::forward(const cni::PortMapping& m) {
  if (m.host_port <= 0) return;
  if (m.protocol != "tcp" && m.protocol != "udp")
    throw InvalidArgument("port_mappings: protocol " + m.protocol + " cannot be forwarded to a rootless pod");
  const std::string host = m.host_ip.empty() ? "0.0.0.0" : m.host_ip;
  try {
    call({{"execute", "add_hostfwd"},
          {"arguments",
           {{"proto", m.protocol},
            {"host_addr", host},
            {"host_port", m.host_port},
            {"guest_addr", kGuestAddress},
            {"guest_port", m.host_port}}}});
  } catch (const Error& e) {
    throw FailedPrecondition("port_mappings: host port " + host + ":" + std::to_string(m.host_port) + "/" + m.protocol +
                             ": " + e.what());
  }
}

void RootlessNetwork::remove_forwards(const std::vector<cni::PortMapping>& mappings, bool matching) {
  json entries;
  try {
    entries = call({{"execute", "list_hostfwd"}}).value("entries", json::array());
  } catch (const Error& e) {
    log::warn("cannot list the pods' host port forwards", {{"error", e.what()}});
    return;
  }
  for (const auto& e : entries) {
    bool matches = false;
    for (const auto& m : mappings)
      matches = matches || (e.value("proto", "") == m.protocol && e.value("host_port", 0) == m.host_port &&
                            e.value("host_addr", "") == (m.host_ip.empty() ? "0.0.0.0" : m.host_ip));
    if (matches != matching) continue;
    try {
      call({{"execute", "remove_hostfwd"}, {"arguments", {{"id", e.value("id", -1)}}}});
    } catch (const Error& err) {
      log::warn("cannot remove a host port forward",
                {{"port", std::to_string(e.value("host_port", 0))}, {"error", err.what()}});
    }
  }
}

void RootlessNetwork::unforward(const std::vector<cni::PortMapping>& mappings) { remove_forwards(mappings, true); }

void RootlessNetwork::keep_only(const std::vector<cni::PortMapping>& live) {
  if (problem().empty()) remove_forwards(live, false);
}

void RootlessNetwork::stop() {
  if (process_running(pid_)) {
    ::kill(pid_, SIGTERM);
    // Ours when this daemon started it; else a previous daemon's, reaped by init.
    for (int i = 0; i < 100 && process_running(pid_); ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      std::this_thread::sleep_for(10ms);
    }
    if (process_running(pid_)) ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, WNOHANG);
  }
  ::unlink(pid_file_.c_str());
  ::unlink(api_socket_.c_str());
  unpin_namespace(netns_);
  ::rmdir((dir_ + "/ns").c_str());
  log::info("pods' network stopped", {{"netns", netns_}});
}

}  // namespace crius::sandbox
