#include "container/stats.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "image/disk_usage.h"
#include "oci/cgroups/path.h"

namespace crius::container {
namespace fs = std::filesystem;

namespace {

// The key of a pod's CPU sample (a container's is its ID).
std::string pod_key(const std::string& pod_id) { return "pod:" + pod_id; }

// One cgroup's figures, or nothing when its directories are gone.
std::optional<oci::cgroups::Stats> read_cgroup(const oci::cgroups::Paths& p) {
  std::error_code ec;
  bool exists = !p.unified.empty() && fs::is_directory(p.unified, ec);
  for (const auto& [ctrl, dir] : p.v1) exists = exists || fs::is_directory(dir, ec);
  if (!exists) return std::nullopt;
  return oci::cgroups::read_stats(p);
}

// The container's cgroup, where the handler (builtin or runc) created it
// from the spec's linux.cgroupsPath.
std::optional<oci::cgroups::Stats> container_cgroup(const Record& r, const conf::Config& config) {
  if (r.cgroups_path.empty()) return std::nullopt;
  try {
    return read_cgroup(oci::cgroups::resolve_here(
        oci::cgroups::container_cgroup_path(r.cgroups_path, config.cgroup_driver == "systemd", r.id)));
  } catch (const std::exception& e) {
    log::warn("reading container cgroup stats", {{"id", r.id}, {"error", e.what()}});
    return std::nullopt;
  }
}

// The mount point of the filesystem that holds `path`: the highest directory
// above it on the same device.
std::string mountpoint_of(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "";
  while (p.has_parent_path() && p != p.root_path()) {
    struct stat up {};
    if (::stat(p.parent_path().c_str(), &up) != 0 || up.st_dev != st.st_dev) break;
    p = p.parent_path();
  }
  return p.string();
}

// The source of the filesystem mounted at `mountpoint` (the topmost mount
// there), as cAdvisor names a container's filesystem device. Every layer
// sits on one or a few filesystems, so each is looked up once.
std::string source_of(const std::string& mountpoint) {
  static std::mutex mu;
  static std::map<std::string, std::string> known;
  if (mountpoint.empty()) return "";
  std::lock_guard lock(mu);
  if (auto it = known.find(mountpoint); it != known.end()) return it->second;
  std::string source;
  for (const auto& m : read_mountinfo())
    if (m.mount_point == mountpoint) source = m.source;
  if (!source.empty()) known[mountpoint] = source;
  return source;
}

std::optional<WritableLayer> writable_layer(const std::string& upper) {
  std::error_code ec;
  if (!fs::is_directory(upper, ec)) return std::nullopt;
  const image::Usage u = image::disk_usage(upper);
  WritableLayer w;
  w.at = now_ns();
  w.mountpoint = mountpoint_of(upper);
  w.bytes = u.bytes;
  w.inodes = u.inodes;
  w.device = source_of(w.mountpoint);
  struct statfs fs {};
  if (::statfs(upper.c_str(), &fs) == 0) w.device_inodes = fs.f_files;
  return w;
}

// /proc/net/dev as seen from inside the network namespace pinned at `netns`
// (read by a thread that joins it, so the daemon's own threads stay put).
// Nothing, logged, when it cannot be read.
std::vector<InterfaceCounters> read_net_dev(const std::string& netns) {
  std::vector<InterfaceCounters> out;
  std::string text, error;
  std::thread reader([&] {
    const Fd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) {
      error = errno_text("opening " + netns, errno);
      return;
    }
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      error = errno_text("joining network namespace " + netns, errno);
      return;
    }
    text = read_file_or_empty("/proc/thread-self/net/dev");
  });
  reader.join();
  if (!error.empty()) {
    log::warn("reading pod network stats", {{"error", error}});
    return out;
  }
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    InterfaceCounters c;
    std::stringstream name(line.substr(0, colon));
    name >> c.name;
    std::stringstream fields(line.substr(colon + 1));
    uint64_t f[16] = {};
    for (auto& v : f) fields >> v;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit.
    c.rx_bytes = f[0];
    c.rx_packets = f[1];
    c.rx_errors = f[2];
    c.rx_dropped = f[3];
    c.tx_bytes = f[8];
    c.tx_packets = f[9];
    c.tx_errors = f[10];
    c.tx_dropped = f[11];
    if (c.name != "lo") out.push_back(c);
  }
  return out;
}

// The containers' figures added up, for a pod without a cgroup of its own.
std::optional<oci::cgroups::Stats> sum(const std::vector<ContainerUsage>& containers) {
  std::optional<oci::cgroups::Stats> total;
  for (const auto& c : containers) {
    if (!c.cgroup) continue;
    const auto& s = c.cgroup->stats;
    if (!total) total.emplace();
    total->cpu.total_ns += s.cpu.total_ns;
    total->memory.usage += s.memory.usage;
    total->memory.working_set += s.memory.working_set;
    total->memory.rss += s.memory.rss;
    total->memory.pgfault += s.memory.pgfault;
    total->memory.pgmajfault += s.memory.pgmajfault;
    total->pids.current += s.pids.current;
  }
  return total;
}

}  // namespace

std::optional<uint64_t> StatsSampler::rate(const std::string& key, int64_t at_ns, uint64_t total_ns) {
  std::lock_guard lock(mu_);
  auto it = last_.find(key);
  std::optional<uint64_t> rate;
  if (it != last_.end()) {
    const auto [then, used] = it->second;
    if (at_ns <= then) return std::nullopt;  // an older sample than the kept one: keep that
    if (total_ns >= used)
      rate = static_cast<uint64_t>(static_cast<long double>(total_ns - used) * 1e9L / (at_ns - then));
  }
  last_[key] = {at_ns, total_ns};
  return rate;
}

void StatsSampler::keep_only(const std::vector<Record>& containers, const std::vector<sandbox::Record>& pods) {
  std::set<std::string> live;
  for (const auto& c : containers) live.insert(c.id);
  for (const auto& p : pods) live.insert(pod_key(p.id));
  std::lock_guard lock(mu_);
  std::erase_if(last_, [&](const auto& kv) { return !live.count(kv.first); });
  std::erase_if(proc_cpu_, [&](const auto& kv) { return !live.count(kv.first); });
}

ContainerUsage StatsSampler::container(const Record& r, const conf::Config& config) {
  ContainerUsage u = cgroup(r, config);
  u.writable_layer = layer(r);
  return u;
}

std::optional<WritableLayer> StatsSampler::layer(const Record& r) { return writable_layer(images_.writable_dir(r.id)); }

void StatsSampler::never_back(const std::string& key, oci::cgroups::Stats::Cpu& cpu) {
  std::lock_guard lock(mu_);
  proc_cpu_[key].apply(cpu);
}

ContainerUsage StatsSampler::cgroup(const Record& r, const conf::Config& config) {
  auto sample = container_cgroup(r, config);
  // No cgroup (rootless without delegation): its processes, from /proc. Time
  // of an exec'd process is lost when it ends (its parent, the monitor, is
  // outside), so what is lost is added back.
  if (!sample && r.cgroups_path.empty() && r.state == State::running) {
    sample = proc_usage(r.pid);
    if (sample) never_back(r.id, sample->cpu);
  }
  ContainerUsage u;
  u.at = now_ns();
  if (sample) {
    const uint64_t total = sample->cpu.total_ns;
    u.cgroup = CgroupUsage{std::move(*sample), rate(r.id, u.at, total)};
  }
  return u;
}

PodUsage StatsSampler::pod(const sandbox::Record& pod, const std::vector<Record>& containers,
                           const conf::Config& config) {
  std::vector<ContainerUsage> samples;
  for (const auto& c : containers) samples.push_back(container(c, config));
  return this->pod(pod, std::move(samples));
}

PodUsage StatsSampler::pod(const sandbox::Record& pod, std::vector<ContainerUsage> containers) {
  PodUsage u;
  u.at = now_ns();
  // The pod's cgroup holds its containers' cgroups; without one, add theirs up.
  std::optional<oci::cgroups::Stats> total;
  if (!pod.cgroup_parent.empty()) {
    try {
      total = read_cgroup(oci::cgroups::resolve_here(pod.cgroup_parent));
    } catch (const std::exception& e) {
      log::warn("reading pod cgroup stats", {{"id", pod.id}, {"error", e.what()}});
    }
  } else {
    total = sum(containers);
  }
  if (total) {
    const uint64_t used = total->cpu.total_ns;
    u.cgroup = CgroupUsage{std::move(*total), rate(pod_key(pod.id), u.at, used)};
  }
  // Host-network pods have no namespace of their own to report.
  if (auto net = pod.namespaces.find("net"); net != pod.namespaces.end() && pod.state == sandbox::State::ready)
    u.network = read_net_dev(net->second);
  u.containers = std::move(containers);
  return u;
}

}  // namespace crius::container
