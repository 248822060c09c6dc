#include "tests/bench/load/host_state.h"
//
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace crius::bench::load {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Per-pod records, run dirs and sockets sit at most 4 levels below a
// daemon's directory (containerd: root/io.containerd.grpc.v1.cri/sandboxes/<id>).
constexpr int kPathDepth = 4;

bool under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename());
  return out;
}

void add_paths(const std::string& dir, std::set<std::string>& out) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    out.insert(it->path());
    if (it.depth() + 1 >= kPathDepth) it.disable_recursion_pending();
  }
}

HostState host_state(const KubeletPods& pods, const Network& net) {
  HostState s;
  const CriDaemon& d = pods.daemon();
  const auto dirs = d.dirs();
  for (const auto& dir : dirs) add_paths(dir, s.paths);
  {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
      std::istringstream ls(line);
      std::string id, parent, dev, root, point;
      ls >> id >> parent >> dev >> root >> point;
      for (const auto& dir : dirs)
        if (under(point, dir)) s.mounts.insert(point);
    }
  }
  for (const auto& h : cgroup_hierarchies()) {
    const std::string top = h + pods.cgroup_root();
    std::error_code ec;
    for (fs::recursive_directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_directory(ec)) continue;
      s.cgroups.push_back(it->path());
      for (const auto& pid : lines_of(it->path() / "cgroup.procs"))
        s.cgroup_tasks.push_back(pid + " in " + it->path().string());
    }
  }
  s.veths = names_in("/sys/class/net/" + net.bridge + "/brif");
  // host-local keeps one file per lease, named by the address, beside its lock.
  for (const auto& n : names_in(net.ipam_dir + "/bench-" + d.name()))
    if (n != "lock" && n.rfind("last_reserved_ip", 0) != 0) s.ip_leases.push_back(n);
  if (d.name() == "containerd") {
    for (const auto& ns : lines_of(pods.run() / "netns.list"))
      if (fs::exists(ns)) s.netns_pins.push_back(ns);
    for (const auto& sock : lines_of(pods.run() / "shim-sockets.list"))
      if (fs::exists(sock)) s.shim_sockets.push_back(sock);
  }
  s.pod_processes = d.pod_processes();
  return s;
}

}  // namespace

HostState settled_host_state(const KubeletPods& pods, const Network& net, std::chrono::seconds timeout) {
  for (auto until = Clock::now() + timeout; Clock::now() < until && !pods.daemon().pod_processes().empty();)
    std::this_thread::sleep_for(100ms);
  return host_state(pods, net);
}

std::vector<std::string> leftovers(const HostState& before, const HostState& now) {
  std::vector<std::string> out;
  auto all = [&](const char* what, const std::vector<std::string>& v) {
    for (const auto& x : v) out.push_back(std::string(what) + " " + x);
  };
  for (pid_t p : now.pod_processes) out.push_back("per-pod process (monitor or shim) " + std::to_string(p));
  all("cgroup task", now.cgroup_tasks);
  all("cgroup", now.cgroups);
  all("veth on the bridge:", now.veths);
  all("IP lease", now.ip_leases);
  all("netns pin", now.netns_pins);
  all("shim socket", now.shim_sockets);
  for (const auto& m : now.mounts)
    if (!before.mounts.count(m)) out.push_back("mount " + m);
  for (const auto& p : now.paths)
    if (!before.paths.count(p)) out.push_back("path " + p);
  return out;
}

std::vector<std::string> settled_leftovers(const KubeletPods& pods, const Network& net, const HostState& baseline,
                                           std::chrono::seconds timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    auto left = leftovers(baseline, settled_host_state(pods, net, timeout));
    if (left.empty() || Clock::now() >= until) return left;
    std::this_thread::sleep_for(500ms);
  }
}

}  // namespace crius::bench::load
