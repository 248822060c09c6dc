// Parsing and checking linux.resources.
#include "oci/cgroups/resources.h"

#include <limits>

#include "base/error.h"

namespace crius::oci::cgroups {
namespace {

using J = nlohmann::json;
const std::string kBase = "linux.resources";

[[noreturn]] void bad(const std::string& key, const std::string& why) { throw InvalidArgument(key + ": " + why); }

const J* field(const J& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void need_object(const J& j, const std::string& key) {
  if (!j.is_object()) bad(key, "must be an object");
}

std::optional<int64_t> get_i64(const J& obj, const char* name, const std::string& base) {
  const J* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) bad(base + "." + name, "must be an integer, got " + v->dump());
  return v->get<int64_t>();
}

std::optional<uint64_t> get_u64(const J& obj, const char* name, const std::string& base) {
  const J* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0))
    bad(base + "." + name, "must be a non-negative integer, got " + v->dump());
  return v->get<uint64_t>();
}

template <typename T>
std::optional<T> get_small(const J& obj, const char* name, const std::string& base) {
  auto v = get_u64(obj, name, base);
  if (v && *v > std::numeric_limits<T>::max())
    bad(base + "." + name, std::to_string(*v) + " is out of range (at most " +
                                std::to_string(std::numeric_limits<T>::max()) + ")");
  if (!v) return std::nullopt;
  return static_cast<T>(*v);
}

std::optional<bool> get_bool(const J& obj, const char* name, const std::string& base) {
  const J* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) bad(base + "." + name, "must be a boolean, got " + v->dump());
  return v->get<bool>();
}

std::string get_string(const J& obj, const char* name, const std::string& base) {
  const J* v = field(obj, name);
  if (!v) return "";
  if (!v->is_string()) bad(base + "." + name, "must be a string, got " + v->dump());
  return v->get<std::string>();
}

// "0-3,5" / "0,1": what cpuset.cpus and cpuset.mems accept.
void check_list(const std::string& s, const std::string& key) {
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == ',' || c == '-'))
      bad(key, "\"" + s + "\" is not a list like 0-3,5");
}

// A memory value: -1 (unlimited) or a positive byte count.
void check_bytes(const std::optional<int64_t>& v, const std::string& key) {
  if (v && *v < -1) bad(key, std::to_string(*v) + " is negative (only -1, unlimited, is allowed)");
}

std::vector<BlockDevice> block_devices(const J& obj, const char* name, const std::string& base, bool weights) {
  std::vector<BlockDevice> out;
  const J* arr = field(obj, name);
  if (!arr) return out;
  const std::string key = base + "." + name;
  if (!arr->is_array()) bad(key, "must be an array");
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string k = key + "[" + std::to_string(i) + "]";
    const J& e = (*arr)[i];
    need_object(e, k);
    BlockDevice d;
    auto maj = get_i64(e, "major", k), min = get_i64(e, "minor", k);
    if (!maj || *maj < 0) bad(k + ".major", "is required and must not be negative");
    if (!min || *min < 0) bad(k + ".minor", "is required and must not be negative");
    d.major = *maj;
    d.minor = *min;
    if (weights) {
      d.weight = get_small<uint16_t>(e, "weight", k);
      d.leaf_weight = get_small<uint16_t>(e, "leafWeight", k);
      if (!d.weight && !d.leaf_weight) bad(k, "needs weight or leafWeight");
      if (d.weight && (*d.weight < 10 || *d.weight > 1000)) bad(k + ".weight", "must be within 10..1000");
    } else {
      auto r = get_u64(e, "rate", k);
      if (!r) bad(k + ".rate", "is required");
      d.rate = *r;
    }
    out.push_back(d);
  }
  return out;
}

uint64_t parse_page_size(const std::string& s, const std::string& key) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  const std::string unit = s.substr(i);
  if (i == 0 || (unit != "KB" && unit != "MB" && unit != "GB"))
    bad(key, "\"" + s + "\" is not a page size like 2MB or 1GB");
  uint64_t n = std::stoull(s.substr(0, i));
  return n << (unit == "KB" ? 10 : unit == "MB" ? 20 : 30);
}

}  // namespace

Resources parse_resources(const J& j) {
  Resources r;
  if (j.is_null()) return r;
  need_object(j, kBase);

  if (const J* d = field(j, "devices")) {
    const std::string key = kBase + ".devices";
    if (!d->is_array()) bad(key, "must be an array");
    r.has_devices = true;
    for (size_t i = 0; i < d->size(); ++i) {
      const std::string k = key + "[" + std::to_string(i) + "]";
      const J& e = (*d)[i];
      need_object(e, k);
      DeviceRule rule;
      auto allow = get_bool(e, "allow", k);
      if (!allow) bad(k + ".allow", "is required");
      rule.allow = *allow;
      std::string type = get_string(e, "type", k);
      if (type.empty()) type = "a";
      if (type != "a" && type != "c" && type != "b" && type != "u") bad(k + ".type", "\"" + type + "\" is not a, c or b");
      rule.type = type == "u" ? 'c' : type[0];
      rule.major = get_i64(e, "major", k).value_or(-1);
      rule.minor = get_i64(e, "minor", k).value_or(-1);
      if (rule.major < -1) bad(k + ".major", "must not be negative");
      if (rule.minor < -1) bad(k + ".minor", "must not be negative");
      rule.access = get_string(e, "access", k);
      if (rule.access.empty()) rule.access = "rwm";
      for (char c : rule.access)
        if (c != 'r' && c != 'w' && c != 'm') bad(k + ".access", "\"" + rule.access + "\" is not made of r, w and m");
      r.devices.push_back(rule);
    }
  }

  if (const J* m = field(j, "memory")) {
    const std::string k = kBase + ".memory";
    need_object(*m, k);
    Resources::Memory mem;
    mem.limit = get_i64(*m, "limit", k);
    mem.reservation = get_i64(*m, "reservation", k);
    mem.swap = get_i64(*m, "swap", k);
    mem.kernel = get_i64(*m, "kernel", k);
    mem.kernel_tcp = get_i64(*m, "kernelTCP", k);
    mem.swappiness = get_u64(*m, "swappiness", k);
    mem.disable_oom_killer = get_bool(*m, "disableOOMKiller", k);
    mem.use_hierarchy = get_bool(*m, "useHierarchy", k);
    mem.check_before_update = get_bool(*m, "checkBeforeUpdate", k);
    check_bytes(mem.limit, k + ".limit");
    check_bytes(mem.reservation, k + ".reservation");
    check_bytes(mem.swap, k + ".swap");
    if (mem.swappiness && *mem.swappiness > 100) bad(k + ".swappiness", std::to_string(*mem.swappiness) + " is above 100");
    if (mem.limit && mem.swap && *mem.limit > 0 && *mem.swap > 0 && *mem.swap < *mem.limit)
      bad(k + ".swap", "memory+swap limit " + std::to_string(*mem.swap) + " is below the memory limit " +
                           std::to_string(*mem.limit));
    r.memory = mem;
  }

  if (const J* c = field(j, "cpu")) {
    const std::string k = kBase + ".cpu";
    need_object(*c, k);
    Resources::Cpu cpu;
    cpu.shares = get_u64(*c, "shares", k);
    cpu.quota = get_i64(*c, "quota", k);
    cpu.burst = get_u64(*c, "burst", k);
    cpu.period = get_u64(*c, "period", k);
    cpu.realtime_runtime = get_i64(*c, "realtimeRuntime", k);
    cpu.realtime_period = get_u64(*c, "realtimePeriod", k);
    cpu.cpus = get_string(*c, "cpus", k);
    cpu.mems = get_string(*c, "mems", k);
    cpu.idle = get_i64(*c, "idle", k);
    if (cpu.shares && *cpu.shares != 0 && (*cpu.shares < 2 || *cpu.shares > 262144))
      bad(k + ".shares", std::to_string(*cpu.shares) + " is outside 2..262144");
    if (cpu.quota && *cpu.quota < -1) bad(k + ".quota", "must be -1 (unlimited) or positive");
    if (cpu.quota && *cpu.quota > 0 && *cpu.quota < 1000) bad(k + ".quota", "must be at least 1000 (microseconds)");
    if (cpu.period && *cpu.period != 0 && (*cpu.period < 1000 || *cpu.period > 1000000))
      bad(k + ".period", std::to_string(*cpu.period) + " is outside 1000..1000000 (microseconds)");
    if (cpu.idle && *cpu.idle != 0 && *cpu.idle != 1) bad(k + ".idle", "must be 0 or 1");
    check_list(cpu.cpus, k + ".cpus");
    check_list(cpu.mems, k + ".mems");
    r.cpu = cpu;
  }

  if (const J* p = field(j, "pids")) {
    const std::string k = kBase + ".pids";
    need_object(*p, k);
    r.pids_limit = get_i64(*p, "limit", k);
    if (!r.pids_limit) bad(k + ".limit", "is required");
  }

  if (const J* b = field(j, "blockIO")) {
    const std::string k = kBase + ".blockIO";
    need_object(*b, k);
    Resources::BlockIO io;
    io.weight = get_small<uint16_t>(*b, "weight", k);
    io.leaf_weight = get_small<uint16_t>(*b, "leafWeight", k);
    if (io.weight && *io.weight != 0 && (*io.weight < 10 || *io.weight > 1000))
      bad(k + ".weight", std::to_string(*io.weight) + " is outside 10..1000");
    if (io.leaf_weight && *io.leaf_weight != 0 && (*io.leaf_weight < 10 || *io.leaf_weight > 1000))
      bad(k + ".leafWeight", std::to_string(*io.leaf_weight) + " is outside 10..1000");
    io.weight_device = block_devices(*b, "weightDevice", k, true);
    io.read_bps = block_devices(*b, "throttleReadBpsDevice", k, false);
    io.write_bps = block_devices(*b, "throttleWriteBpsDevice", k, false);
    io.read_iops = block_devices(*b, "throttleReadIOPSDevice", k, false);
    io.write_iops = block_devices(*b, "throttleWriteIOPSDevice", k, false);
    r.block_io = io;
  }

  if (const J* h = field(j, "hugepageLimits")) {
    const std::string k = kBase + ".hugepageLimits";
    if (!h->is_array()) bad(k, "must be an array");
    for (size_t i = 0; i < h->size(); ++i) {
      const std::string ki = k + "[" + std::to_string(i) + "]";
      need_object((*h)[i], ki);
      const std::string size = get_string((*h)[i], "pageSize", ki);
      parse_page_size(size, ki + ".pageSize");
      auto limit = get_u64((*h)[i], "limit", ki);
      if (!limit) bad(ki + ".limit", "is required");
      r.hugepage_limits.emplace_back(size, *limit);
    }
  }

  if (const J* n = field(j, "network")) {
    const std::string k = kBase + ".network";
    need_object(*n, k);
    Resources::Network net;
    net.class_id = get_small<uint32_t>(*n, "classID", k);
    if (const J* pr = field(*n, "priorities")) {
      if (!pr->is_array()) bad(k + ".priorities", "must be an array");
      for (size_t i = 0; i < pr->size(); ++i) {
        const std::string ki = k + ".priorities[" + std::to_string(i) + "]";
        need_object((*pr)[i], ki);
        const std::string name = get_string((*pr)[i], "name", ki);
        if (name.empty() || name.find_first_of(" \n/") != std::string::npos) bad(ki + ".name", "is not an interface name");
        auto prio = get_small<uint32_t>((*pr)[i], "priority", ki);
        if (!prio) bad(ki + ".priority", "is required");
        net.priorities.emplace_back(name, *prio);
      }
    }
    r.network = net;
  }

  if (const J* rd = field(j, "rdma")) {
    const std::string k = kBase + ".rdma";
    need_object(*rd, k);
    for (const auto& [dev, lim] : rd->items()) {
      const std::string kd = k + "." + dev;
      if (dev.empty() || dev.find_first_of(" \n=") != std::string::npos) bad(kd, "is not a device name");
      need_object(lim, kd);
      Resources::Rdma x;
      x.hca_handles = get_small<uint32_t>(lim, "hcaHandles", kd);
      x.hca_objects = get_small<uint32_t>(lim, "hcaObjects", kd);
      r.rdma[dev] = x;
    }
  }

  if (const J* u = field(j, "unified")) {
    const std::string k = kBase + ".unified";
    need_object(*u, k);
    for (const auto& [file, v] : u->items()) {
      const std::string kf = k + "." + file;
      if (!v.is_string()) bad(kf, "must be a string");
      // A controller file of this cgroup: "<controller>.<name>", no path.
      auto dot = file.find('.');
      if (file.find('/') != std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == file.size())
        bad(kf, "is not a cgroup file name like memory.high");
      if (file.starts_with("cgroup.") && file != "cgroup.max.depth" && file != "cgroup.max.descendants" &&
          file != "cgroup.freeze" && file != "cgroup.type")
        bad(kf, "cgroup core files other than max.depth, max.descendants, freeze and type are not settable");
      r.unified[file] = v.get<std::string>();
    }
  }
  return r;
}

const std::vector<DeviceRule>& default_device_rules() {
  static const std::vector<DeviceRule> rules = {
      {true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},  // mknod of anything
      {true, 'c', 1, 3, "rwm"},   // null
      {true, 'c', 1, 5, "rwm"},   // zero
      {true, 'c', 1, 7, "rwm"},   // full
      {true, 'c', 1, 8, "rwm"},   // random
      {true, 'c', 1, 9, "rwm"},   // urandom
      {true, 'c', 5, 0, "rwm"},   // tty
      {true, 'c', 5, 2, "rwm"},   // ptmx
      {true, 'c', 136, -1, "rwm"},  // /dev/pts/*
  };
  return rules;
}

}  // namespace crius::oci::cgroups
