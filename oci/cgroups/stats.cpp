#include "oci/cgroups/stats.h"

#include <charconv>
#include <cstdlib>
#include <sstream>

#include "base/dir.h"
#include "base/file.h"
#include "base/strings.h"

namespace crius::oci::cgroups {
namespace {

// Files of a controller the host lacks, or of a cgroup going away, read as
// empty (read_file_or_empty): their figures are 0.
std::string slurp(const std::string& p) { return read_file_or_empty(p); }

// "max" and v1's near-2^63 "unlimited" read as 0, as does anything else
// that is not a number.
uint64_t num(const std::string& s) {
  const std::string t = trim(s);
  uint64_t v = 0;
  if (std::from_chars(t.data(), t.data() + t.size(), v).ec != std::errc()) return 0;
  return v >= (uint64_t{1} << 62) ? 0 : v;
}

uint64_t file_num(const std::string& dir, const std::string& f) { return num(slurp(dir + "/" + f)); }

// "key value" lines (cpu.stat, memory.stat, memory.events, oom_control).
std::map<std::string, uint64_t> flat_keyed(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    std::stringstream ls(line);
    std::string k;
    uint64_t v;
    if (ls >> k >> v) out[k] = v;
  }
  return out;
}

uint64_t get(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

// Page sizes with a hugetlb file in dir: "hugetlb.2MB.<suffix>".
std::vector<std::string> hugetlb_sizes(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  auto d = Dir::open_if_exists(dir);
  if (!d) return out;
  while (const dirent* e = d->next()) {
    const std::string n = e->d_name;
    if (!n.starts_with("hugetlb.") || n.size() <= 8 + suffix.size() || !n.ends_with(suffix)) continue;
    std::string size = n.substr(8, n.size() - 8 - suffix.size());
    if (size.find('.') == std::string::npos) out.push_back(size);
  }
  return out;
}

Stats::Io::Device& device(Stats::Io& io, uint64_t maj, uint64_t min) {
  for (auto& d : io.devices)
    if (d.major == maj && d.minor == min) return d;
  io.devices.push_back({maj, min});
  return io.devices.back();
}

void v2_hugetlb(const std::string& dir, Stats& s) {
  for (const auto& size : hugetlb_sizes(dir, ".current")) {
    auto& h = s.hugetlb[size];
    h.usage = file_num(dir, "hugetlb." + size + ".current");
    h.failcnt = get(flat_keyed(slurp(dir + "/hugetlb." + size + ".events")), "max");
  }
}

// A *.pressure file: "some avg10=… avg60=… avg300=… total=…" and "full …";
// nullopt when the file is missing (no cgroup2, or PSI off).
std::optional<Stats::Psi> psi(const std::string& path) {
  const std::string text = slurp(path);
  if (text.empty()) return std::nullopt;
  Stats::Psi out;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::stringstream words(line);
    std::string kind, field;
    words >> kind;
    Stats::Psi::Line* l = kind == "some" ? &out.some : kind == "full" ? &out.full : nullptr;
    if (!l) continue;
    while (words >> field) {
      const auto eq = field.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = field.substr(0, eq), value = field.substr(eq + 1);
      if (key == "total") l->total_us = std::strtoull(value.c_str(), nullptr, 10);
      else if (key == "avg10") l->avg10 = std::strtod(value.c_str(), nullptr);
      else if (key == "avg60") l->avg60 = std::strtod(value.c_str(), nullptr);
      else if (key == "avg300") l->avg300 = std::strtod(value.c_str(), nullptr);
    }
  }
  return out;
}

void read_psi(const std::string& unified, Stats& s) {
  if (unified.empty()) return;
  s.cpu_psi = psi(unified + "/cpu.pressure");
  s.memory_psi = psi(unified + "/memory.pressure");
  s.io_psi = psi(unified + "/io.pressure");
}

void read_v2(const std::string& dir, Stats& s) {
  auto cpu = flat_keyed(slurp(dir + "/cpu.stat"));
  s.cpu.total_ns = get(cpu, "usage_usec") * 1000;
  s.cpu.user_ns = get(cpu, "user_usec") * 1000;
  s.cpu.system_ns = get(cpu, "system_usec") * 1000;
  s.cpu.periods = get(cpu, "nr_periods");
  s.cpu.throttled_periods = get(cpu, "nr_throttled");
  s.cpu.throttled_ns = get(cpu, "throttled_usec") * 1000;

  auto& m = s.memory;
  m.raw = flat_keyed(slurp(dir + "/memory.stat"));
  m.usage = file_num(dir, "memory.current");
  m.max_usage = file_num(dir, "memory.peak");
  m.limit = file_num(dir, "memory.max");
  m.rss = get(m.raw, "anon");
  m.cache = get(m.raw, "file");
  m.swap = file_num(dir, "memory.swap.current");
  m.swap_limit = file_num(dir, "memory.swap.max");
  m.pgfault = get(m.raw, "pgfault");
  m.pgmajfault = get(m.raw, "pgmajfault");
  const uint64_t inactive = get(m.raw, "inactive_file");
  m.working_set = m.usage > inactive ? m.usage - inactive : 0;
  auto ev = flat_keyed(slurp(dir + "/memory.events"));
  m.oom_events = get(ev, "oom");
  m.oom_kill = get(ev, "oom_kill");

  s.pids.current = file_num(dir, "pids.current");
  s.pids.limit = file_num(dir, "pids.max");

  // io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
  std::stringstream io(slurp(dir + "/io.stat"));
  std::string line;
  while (std::getline(io, line)) {
    std::stringstream ls(line);
    std::string devno, kv;
    if (!(ls >> devno)) continue;
    uint64_t maj = 0, min = 0;
    if (std::sscanf(devno.c_str(), "%lu:%lu", &maj, &min) != 2) continue;
    auto& d = device(s.io, maj, min);
    while (ls >> kv) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = kv.substr(0, eq);
      const uint64_t v = num(kv.substr(eq + 1));
      if (k == "rbytes") d.read_bytes = v;
      if (k == "wbytes") d.write_bytes = v;
      if (k == "rios") d.read_ops = v;
      if (k == "wios") d.write_ops = v;
    }
  }
  v2_hugetlb(dir, s);
}

// blkio.throttle.io_service*_recursive: "8:0 Read 123" lines.
void v1_blkio(const std::string& file, Stats& s, bool bytes) {
  std::stringstream ss(slurp(file));
  std::string devno, op;
  uint64_t v;
  while (ss >> devno) {
    if (devno == "Total") {
      ss >> v;
      continue;
    }
    if (!(ss >> op >> v)) break;
    uint64_t maj = 0, min = 0;
    if (std::sscanf(devno.c_str(), "%lu:%lu", &maj, &min) != 2) continue;
    auto& d = device(s.io, maj, min);
    if (op == "Read") (bytes ? d.read_bytes : d.read_ops) = v;
    if (op == "Write") (bytes ? d.write_bytes : d.write_ops) = v;
  }
}

void read_v1(const Paths& p, Stats& s) {
  auto dir = [&](const char* c) {
    auto it = p.v1.find(c);
    return it == p.v1.end() ? std::string() : it->second;
  };
  if (auto d = dir("cpuacct"); !d.empty()) {
    s.cpu.total_ns = file_num(d, "cpuacct.usage");
    s.cpu.user_ns = file_num(d, "cpuacct.usage_user");
    s.cpu.system_ns = file_num(d, "cpuacct.usage_sys");
    std::stringstream ss(slurp(d + "/cpuacct.usage_percpu"));
    uint64_t v;
    while (ss >> v) s.cpu.per_cpu_ns.push_back(v);
  }
  if (auto d = dir("cpu"); !d.empty()) {
    auto st = flat_keyed(slurp(d + "/cpu.stat"));
    s.cpu.periods = get(st, "nr_periods");
    s.cpu.throttled_periods = get(st, "nr_throttled");
    s.cpu.throttled_ns = get(st, "throttled_time");
  }
  if (auto d = dir("memory"); !d.empty()) {
    auto& m = s.memory;
    m.raw = flat_keyed(slurp(d + "/memory.stat"));
    m.usage = file_num(d, "memory.usage_in_bytes");
    m.max_usage = file_num(d, "memory.max_usage_in_bytes");
    m.limit = file_num(d, "memory.limit_in_bytes");
    m.failcnt = file_num(d, "memory.failcnt");
    // The total_ fields include child cgroups, as usage does.
    m.rss = get(m.raw, "total_rss");
    m.cache = get(m.raw, "total_cache");
    m.swap = get(m.raw, "total_swap");
    // memsw counts memory and swap together; its limit less memory's is swap's.
    const uint64_t memsw = file_num(d, "memory.memsw.limit_in_bytes");
    m.swap_limit = memsw > m.limit && m.limit > 0 ? memsw - m.limit : 0;
    m.pgfault = get(m.raw, "total_pgfault");
    m.pgmajfault = get(m.raw, "total_pgmajfault");
    const uint64_t inactive = get(m.raw, "total_inactive_file");
    m.working_set = m.usage > inactive ? m.usage - inactive : 0;
    auto oom = flat_keyed(slurp(d + "/memory.oom_control"));
    m.oom_kill = get(oom, "oom_kill");
    m.oom_events = m.oom_kill;
  }
  if (auto d = dir("pids"); !d.empty()) {
    s.pids.current = file_num(d, "pids.current");
    s.pids.limit = file_num(d, "pids.max");
  }
  if (auto d = dir("blkio"); !d.empty()) {
    v1_blkio(d + "/blkio.throttle.io_service_bytes_recursive", s, true);
    v1_blkio(d + "/blkio.throttle.io_serviced_recursive", s, false);
  }
  if (auto d = dir("hugetlb"); !d.empty()) {
    for (const auto& size : hugetlb_sizes(d, ".usage_in_bytes")) {
      auto& h = s.hugetlb[size];
      h.usage = file_num(d, "hugetlb." + size + ".usage_in_bytes");
      h.max_usage = file_num(d, "hugetlb." + size + ".max_usage_in_bytes");
      h.failcnt = file_num(d, "hugetlb." + size + ".failcnt");
    }
  } else if (!p.unified.empty()) {
    v2_hugetlb(p.unified, s);  // hybrid: hugetlb lives on cgroup2
  }
}

}  // namespace

Stats read_stats(const Paths& p) {
  Stats s;
  if (p.mode == Mode::v2)
    read_v2(p.unified, s);
  else
    read_v1(p, s);
  read_psi(p.unified, s);  // hybrid hosts have it on their cgroup2 mount too
  for (const auto& d : s.io.devices) {
    s.io.read_bytes += d.read_bytes;
    s.io.write_bytes += d.write_bytes;
    s.io.read_ops += d.read_ops;
    s.io.write_ops += d.write_ops;
  }
  return s;
}

nlohmann::json Stats::to_runc_json() const {
  using J = nlohmann::json;
  J cpuj = {{"usage",
             {{"total", cpu.total_ns}, {"percpu", cpu.per_cpu_ns}, {"kernel", cpu.system_ns}, {"user", cpu.user_ns}}},
            {"throttling",
             {{"periods", cpu.periods}, {"throttled_periods", cpu.throttled_periods}, {"throttled_time", cpu.throttled_ns}}}};
  J raw = J::object();
  for (const auto& [k, v] : memory.raw) raw[k] = v;
  J mem = {{"cache", memory.cache},
           {"usage",
            {{"usage", memory.usage}, {"max", memory.max_usage}, {"limit", memory.limit}, {"failcnt", memory.failcnt}}},
           {"swap", {{"usage", memory.swap}}},
           {"raw", raw}};
  J blk = {{"ioServiceBytesRecursive", J::array()}, {"ioServicedRecursive", J::array()}};
  for (const auto& d : io.devices) {
    for (auto [op, v] : {std::pair{"Read", d.read_bytes}, std::pair{"Write", d.write_bytes}})
      blk["ioServiceBytesRecursive"].push_back({{"major", d.major}, {"minor", d.minor}, {"op", op}, {"value", v}});
    for (auto [op, v] : {std::pair{"Read", d.read_ops}, std::pair{"Write", d.write_ops}})
      blk["ioServicedRecursive"].push_back({{"major", d.major}, {"minor", d.minor}, {"op", op}, {"value", v}});
  }
  J huge = J::object();
  for (const auto& [size, h] : hugetlb) huge[size] = {{"usage", h.usage}, {"max", h.max_usage}, {"failcnt", h.failcnt}};
  return {{"cpu", cpuj},
          {"memory", mem},
          {"pids", {{"current", pids.current}, {"limit", pids.limit}}},
          {"blkio", blk},
          {"hugetlb", huge}};
}

Stats read_stats(const std::string& cgroups_path, bool systemd, const std::string& id) {
  return read_stats(resolve_here(container_cgroup_path(cgroups_path, systemd, id)));
}

}  // namespace crius::oci::cgroups
