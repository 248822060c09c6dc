#include "server/stats_convert.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "conf/error.h"
#include "conf/log.h"
#include "oci/cgroups/path.h"
#include "oci/cgroups/stats.h"
#include "server/filters.h"

namespace crius::server {

namespace v1 = ::runtime::v1;
namespace fs = std::filesystem;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
std::optional<oci::cgroups::Stats> container_cgroup(const container::Record& r, const conf::Config& config) {
  if (r.cgroups_path.empty()) return std::nullopt;
  try {
    return read_cgroup(oci::cgroups::resolve_here(
        oci::cgroups::container_cgroup_path(r.cgroups_path, config.cgroup_driver == "systemd", r.id)));
  } catch (const std::exception& e) {
    log::warn("reading container cgroup stats", {{"id", r.id}, {"error", e.what()}});
    return std::nullopt;
  }
}

void set(v1::UInt64Value* v, uint64_t n) { v->set_value(n); }

void fill_cpu(const oci::cgroups::Stats& s, int64_t at, const std::string& key, CpuRates& rates, v1::CpuUsage* cpu) {
  cpu->set_timestamp(at);
  set(cpu->mutable_usage_core_nano_seconds(), s.cpu.total_ns);
  if (auto rate = rates.update(key, at, s.cpu.total_ns)) set(cpu->mutable_usage_nano_cores(), *rate);
}

void fill_memory(const oci::cgroups::Stats& s, int64_t at, v1::MemoryUsage* m) {
  m->set_timestamp(at);
  set(m->mutable_working_set_bytes(), s.memory.working_set);
  // As kubelet's eviction reads it: what the limit leaves beyond the working set.
  if (s.memory.limit > 0)
    set(m->mutable_available_bytes(),
        s.memory.limit > s.memory.working_set ? s.memory.limit - s.memory.working_set : 0);
  set(m->mutable_usage_bytes(), s.memory.usage);
  set(m->mutable_rss_bytes(), s.memory.rss);
  set(m->mutable_page_faults(), s.memory.pgfault);
  set(m->mutable_major_page_faults(), s.memory.pgmajfault);
}

// Bytes (allocated blocks, as du counts them) and inodes under `dir`, each
// hard-linked inode once, without following symlinks or leaving its filesystem.
std::pair<uint64_t, uint64_t> disk_usage(const std::string& dir) {
  uint64_t bytes = 0, inodes = 0;
  struct stat top {};
  if (::lstat(dir.c_str(), &top) != 0) return {0, 0};
  std::unordered_set<ino_t> seen;
  auto count = [&](const struct stat& st) {
    if (st.st_nlink > 1 && !seen.insert(st.st_ino).second) return;
    bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    ++inodes;
  };
  count(top);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (st.st_dev != top.st_dev) {
      it.disable_recursion_pending();
      continue;
    }
    count(st);
  }
  return {bytes, inodes};
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

void fill_writable_layer(const container::Record& r, int64_t at, v1::FilesystemUsage* fsu) {
  if (r.rootfs.empty()) return;
  // The overlay's upper dir sits beside its merged mount (image/rootfs.cpp).
  const std::string upper = (fs::path(r.rootfs).parent_path() / "upper").string();
  std::error_code ec;
  if (!fs::is_directory(upper, ec)) return;
  auto [bytes, inodes] = disk_usage(upper);
  fsu->set_timestamp(at);
  fsu->mutable_fs_id()->set_mountpoint(mountpoint_of(upper));
  set(fsu->mutable_used_bytes(), bytes);
  set(fsu->mutable_inodes_used(), inodes);
}

struct InterfaceCounters {
  std::string name;
  uint64_t rx_bytes = 0, rx_errors = 0, tx_bytes = 0, tx_errors = 0;
};

// /proc/net/dev as seen from inside the network namespace pinned at `netns`
// (read by a thread that joins it, so the daemon's own threads stay put).
std::vector<InterfaceCounters> read_net_dev(const std::string& netns) {
  std::vector<InterfaceCounters> out;
  std::string text, error;
  std::thread reader([&] {
    int fd = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = errno_text("opening " + netns, errno);
      return;
    }
    if (::setns(fd, CLONE_NEWNET) != 0) {
      error = errno_text("joining network namespace " + netns, errno);
      ::close(fd);
      return;
    }
    ::close(fd);
    std::ifstream in("/proc/thread-self/net/dev");
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
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
    c.rx_errors = f[2];
    c.tx_bytes = f[8];
    c.tx_errors = f[10];
    if (c.name != "lo") out.push_back(c);
  }
  return out;
}

void fill_interface(const InterfaceCounters& c, v1::NetworkInterfaceUsage* u) {
  u->set_name(c.name);
  set(u->mutable_rx_bytes(), c.rx_bytes);
  set(u->mutable_rx_errors(), c.rx_errors);
  set(u->mutable_tx_bytes(), c.tx_bytes);
  set(u->mutable_tx_errors(), c.tx_errors);
}

}  // namespace

std::optional<uint64_t> CpuRates::update(const std::string& key, int64_t at_ns, uint64_t total_ns) {
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

void CpuRates::keep_only(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  std::erase_if(last_, [&](const auto& kv) { return !live.count(kv.first); });
}

namespace {

// One container's figures from a cgroup sample already read.
void fill_container(const container::Record& r, const std::optional<oci::cgroups::Stats>& s, CpuRates& rates,
                    v1::ContainerStats* out) {
  auto* a = out->mutable_attributes();
  a->set_id(r.id);
  *a->mutable_metadata() = r.config.metadata();
  *a->mutable_labels() = r.config.labels();
  *a->mutable_annotations() = r.config.annotations();
  const int64_t at = now_ns();
  if (s) {
    fill_cpu(*s, at, r.id, rates, out->mutable_cpu());
    fill_memory(*s, at, out->mutable_memory());
    out->mutable_swap()->set_timestamp(at);
    set(out->mutable_swap()->mutable_swap_usage_bytes(), s->memory.swap);
  }
  fill_writable_layer(r, at, out->mutable_writable_layer());
}

}  // namespace

void to_stats(const container::Record& r, const conf::Config& config, CpuRates& rates, v1::ContainerStats* out) {
  fill_container(r, container_cgroup(r, config), rates, out);
}

void to_stats(const sandbox::Record& pod, const std::vector<container::Record>& containers,
              const conf::Config& config, CpuRates& rates, v1::PodSandboxStats* out) {
  auto* a = out->mutable_attributes();
  a->set_id(pod.id);
  auto* md = a->mutable_metadata();
  md->set_name(pod.spec.name);
  md->set_uid(pod.spec.uid);
  md->set_namespace_(pod.spec.namespace_);
  md->set_attempt(pod.spec.attempt);
  a->mutable_labels()->insert(pod.spec.labels.begin(), pod.spec.labels.end());
  a->mutable_annotations()->insert(pod.spec.annotations.begin(), pod.spec.annotations.end());

  auto* lx = out->mutable_linux();
  const int64_t at = now_ns();
  std::vector<std::optional<oci::cgroups::Stats>> samples;
  for (const auto& c : containers) samples.push_back(container_cgroup(c, config));
  // The pod's cgroup holds its containers' cgroups; without one, add theirs up.
  std::optional<oci::cgroups::Stats> total;
  if (!pod.cgroup_parent.empty()) {
    try {
      total = read_cgroup(oci::cgroups::resolve_here(pod.cgroup_parent));
    } catch (const std::exception& e) {
      log::warn("reading pod cgroup stats", {{"id", pod.id}, {"error", e.what()}});
    }
  } else {
    for (const auto& s : samples) {
      if (!s) continue;
      if (!total) total.emplace();
      total->cpu.total_ns += s->cpu.total_ns;
      total->memory.usage += s->memory.usage;
      total->memory.working_set += s->memory.working_set;
      total->memory.rss += s->memory.rss;
      total->memory.pgfault += s->memory.pgfault;
      total->memory.pgmajfault += s->memory.pgmajfault;
      total->pids.current += s->pids.current;
    }
  }
  if (total) {
    fill_cpu(*total, at, pod_cpu_key(pod.id), rates, lx->mutable_cpu());
    fill_memory(*total, at, lx->mutable_memory());
    lx->mutable_process()->set_timestamp(at);
    set(lx->mutable_process()->mutable_process_count(), total->pids.current);
  }
  // Host-network pods have no namespace of their own to report.
  if (auto net = pod.namespaces.find("net"); net != pod.namespaces.end() && pod.state == sandbox::State::ready) {
    auto* n = lx->mutable_network();
    n->set_timestamp(at);
    for (const auto& c : read_net_dev(net->second)) {
      if (c.name == "eth0") fill_interface(c, n->mutable_default_interface());
      fill_interface(c, n->add_interfaces());
    }
  }
  for (std::size_t i = 0; i < containers.size(); ++i)
    fill_container(containers[i], samples[i], rates, lx->add_containers());
}

bool matches(const container::Record& r, const v1::ContainerStatsFilter& f) { return container_filter_match(r, f); }

bool matches(const sandbox::Record& r, const v1::PodSandboxStatsFilter& f) { return sandbox_filter_match(r, f); }

}  // namespace crius::server
