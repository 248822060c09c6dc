#include "cni/network.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "cni/exec.h"
#include "cni/pod_cidr.h"

namespace crius::cni {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kIngressAnnotation = "kubernetes.io/ingress-bandwidth";
constexpr const char* kEgressAnnotation = "kubernetes.io/egress-bandwidth";
constexpr const char* kPodAnnotationsCapability = "io.kubernetes.cri.pod-annotations";
// Burst for the bandwidth plugin when Kubernetes gives only a rate: as large
// as the plugin accepts, i.e. no burst limit beyond the rate.
constexpr uint64_t kUnlimitedBurst = 2147483647;

bool has_capability(const json& plugin, const char* cap) {
  auto caps = plugin.find("capabilities");
  if (caps == plugin.end() || !caps->is_object()) return false;
  auto c = caps->find(cap);
  return c != caps->end() && c->is_boolean() && c->get<bool>();
}

// runtimeConfig holds only what the plugin declared a capability for.
json runtime_config(const json& plugin, const Attachment& a) {
  json rc = json::object();
  if (has_capability(plugin, "portMappings") && !a.port_mappings.empty()) {
    json ports = json::array();
    for (const auto& p : a.port_mappings) {
      json m = {{"hostPort", p.host_port}, {"containerPort", p.container_port}, {"protocol", p.protocol}};
      if (!p.host_ip.empty()) m["hostIP"] = p.host_ip;
      ports.push_back(m);
    }
    rc["portMappings"] = ports;
  }
  if (has_capability(plugin, "bandwidth")) {
    json bw = json::object();
    if (auto in = a.annotations.find(kIngressAnnotation); in != a.annotations.end()) {
      bw["ingressRate"] = parse_bandwidth(in->second);
      bw["ingressBurst"] = kUnlimitedBurst;
    }
    if (auto out = a.annotations.find(kEgressAnnotation); out != a.annotations.end()) {
      bw["egressRate"] = parse_bandwidth(out->second);
      bw["egressBurst"] = kUnlimitedBurst;
    }
    if (!bw.empty()) rc["bandwidth"] = bw;
  }
  if (has_capability(plugin, kPodAnnotationsCapability)) rc[kPodAnnotationsCapability] = a.annotations;
  if (has_capability(plugin, "ipRanges") && !a.pod_cidrs.empty()) rc["ipRanges"] = ip_ranges(a.pod_cidrs);
  return rc;
}

}  // namespace

std::vector<std::string> result_ips(const json& result) {
  std::vector<std::string> v4, v6;
  auto ips = result.find("ips");
  if (ips == result.end() || !ips->is_array()) return {};
  for (const auto& ip : *ips) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) continue;
    std::string addr = ip["address"].get<std::string>();
    addr = addr.substr(0, addr.find('/'));
    (addr.find(':') == std::string::npos ? v4 : v6).push_back(addr);
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

json plugin_answer(const std::string& what, const std::string& command, const ExecResult& r) {
  if (r.exit_code != 0) {
    // The spec's error: {"code", "msg", "details"} on stdout; else stderr.
    std::string msg;
    json err = json::parse(r.out, nullptr, false);
    if (err.is_object() && err.contains("msg") && err["msg"].is_string()) {
      msg = err["msg"].get<std::string>();
      if (err.contains("details") && err["details"].is_string() && !err["details"].get<std::string>().empty())
        msg += ": " + err["details"].get<std::string>();
      if (err.contains("code") && err["code"].is_number()) msg += " (code " + err["code"].dump() + ")";
    } else {
      msg = !r.err.empty() ? r.err : r.out;
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      // Killed half-way (the OOM killer, an operator): say so, with what it printed.
      if (r.signal) msg = "killed by signal " + std::to_string(r.signal) + (msg.empty() ? "" : ": " + msg);
      else if (msg.empty()) msg = "exit status " + std::to_string(r.exit_code);
    }
    throw Internal(what + " failed: " + msg);
  }
  if (command != "ADD") return json();
  json result = json::parse(r.out, nullptr, false);
  if (result.is_discarded() || !result.is_object()) throw Internal(what + ": the result is not a JSON object: " + r.out);
  return result;
}

json Attachment::to_json() const {
  json ports = json::array();
  for (const auto& p : port_mappings)
    ports.push_back({{"protocol", p.protocol}, {"containerPort", p.container_port}, {"hostPort", p.host_port},
                     {"hostIP", p.host_ip}});
  return {{"id", id},
          {"netns", netns},
          {"ifname", ifname},
          {"podNamespace", pod_namespace},
          {"podName", pod_name},
          {"podUid", pod_uid},
          {"portMappings", ports},
          {"annotations", annotations},
          {"podCidrs", pod_cidrs}};
}

Attachment Attachment::from_json(const json& j) {
  // Read back from the cache, which a disk fault or a hand edit can damage:
  // every field is type-checked, and a bad one throws InvalidArgument.
  auto bad = [](const std::string& why) { return InvalidArgument("CNI attachment record: " + why); };
  if (!j.is_object()) throw bad("not an object");
  auto text = [&](const json& o, const char* key, const char* fallback) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::string(fallback);
    if (!it->is_string()) throw bad(std::string("\"") + key + "\" is not a string");
    return it->get<std::string>();
  };
  auto port = [&](const json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return int32_t{0};
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 65535)
      throw bad(std::string("\"") + key + "\" is not a port number");
    return static_cast<int32_t>(it->get<int64_t>());
  };
  Attachment a;
  a.id = text(j, "id", "");
  a.netns = text(j, "netns", "");
  a.ifname = text(j, "ifname", "eth0");
  a.pod_namespace = text(j, "podNamespace", "");
  a.pod_name = text(j, "podName", "");
  a.pod_uid = text(j, "podUid", "");
  try {
    for (const auto& p : j.value("portMappings", json::array())) {
      if (!p.is_object()) throw bad("a port mapping is not an object");
      a.port_mappings.push_back({text(p, "protocol", "tcp"), port(p, "containerPort"), port(p, "hostPort"),
                                 text(p, "hostIP", "")});
    }
    a.annotations = j.value("annotations", std::map<std::string, std::string>());
    a.pod_cidrs = j.value("podCidrs", std::vector<std::string>());
  } catch (const json::exception& e) {
    throw bad(e.what());
  }
  return a;
}

uint64_t parse_bandwidth(const std::string& q) {
  size_t i = 0;
  while (i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || q[i] == '.')) ++i;
  const std::string number = q.substr(0, i), suffix = q.substr(i);
  if (number.empty()) throw InvalidArgument("bandwidth " + q + ": not a quantity");
  static const std::map<std::string, double> kUnits = {
      {"", 1},       {"k", 1e3},           {"M", 1e6},           {"G", 1e9},           {"T", 1e12},
      {"P", 1e15},   {"E", 1e18},          {"Ki", 1024.0},       {"Mi", 1048576.0},    {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  auto unit = kUnits.find(suffix);
  if (unit == kUnits.end()) throw InvalidArgument("bandwidth " + q + ": unknown unit " + suffix);
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || v <= 0) throw InvalidArgument("bandwidth " + q + ": not a quantity");
  return static_cast<uint64_t>(std::llround(v * unit->second));
}

Cni::Cni(std::string cache_dir, std::chrono::milliseconds plugin_timeout)
    : cache_dir_(std::move(cache_dir)), timeout_ms_(plugin_timeout.count()) {
  mkdir_all(cache_dir_);
  load_pod_cidrs();
}

Cni::~Cni() = default;

Loaded Cni::current_config(const std::string& dir) const {
  std::lock_guard lock(watch_mu_);
  if (!watch_ || watch_->dir() != dir) {
    watch_.reset();
    loaded_generation_ = 0;
    try {
      watch_ = std::make_unique<DirWatch>(dir);
    } catch (const Error& e) {
      log::warn("cannot watch the CNI config dir; reading it on every call", {{"dir", dir}, {"error", e.what()}});
      return load_first(dir);
    }
  }
  // Drain the events first: a change during the load makes the next call load again.
  const uint64_t generation = watch_->generation();
  if (generation != loaded_generation_) {
    loaded_ = load_first(dir);
    loaded_generation_ = generation;
  }
  return loaded_;
}

json Cni::plugin_conf(const json& plugin, const NetworkList& net) const {
  json conf = plugin;
  conf["name"] = net.name;
  conf["cniVersion"] = net.cni_version;
  if (!ipam_data_dir_.empty() && conf.contains("ipam") && conf["ipam"].is_object() &&
      conf["ipam"].value("type", "") == "host-local" && !conf["ipam"].contains("dataDir"))
    conf["ipam"]["dataDir"] = ipam_data_dir_;
  return conf;
}

ExecResult Cni::run_plugin(const std::string& path, const std::vector<std::string>& env, const std::string& input,
                           std::chrono::milliseconds limit) const {
  Fd netns;
  if (!plugin_netns_.empty()) {
    netns = Fd(::open(plugin_netns_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) throw Internal(errno_text("opening the pods' network namespace " + plugin_netns_, errno));
  }
  return exec_plugin(path, env, input, limit, netns.get());
}

Readiness Cni::readiness(const conf::NetworkConfig& config) const {
  if (plugin_netns_problem_)
    if (std::string p = plugin_netns_problem_(); !p.empty()) return {false, p};
  Loaded l = current_config(config.cni_config_dir);
  if (!l.network) return {false, l.problem};
  for (const auto& p : l.network->plugins) {
    const std::string type = p["type"].get<std::string>();
    if (find_plugin(type, config.cni_plugin_dirs).empty())
      return {false, "CNI plugin " + type + " of network " + l.network->name + " (" + l.network->file +
                         ") is not installed in " + join(config.cni_plugin_dirs, ", ")};
  }
  if (version_at_least(l.network->cni_version, "1.1.0")) return plugin_status(*l.network, config.cni_plugin_dirs);
  return {true, ""};
}

Readiness Cni::plugin_status(const NetworkList& net, const std::vector<std::string>& dirs) const {
  constexpr auto kReuse = std::chrono::seconds(5);
  const std::string key = net.file + "\n" + net.to_json().dump() + "\n" + join(dirs, ":");
  {
    std::lock_guard lock(status_mu_);
    if (key == status_key_ && std::chrono::steady_clock::now() - status_at_ < kReuse) return status_;
  }
  Readiness out{true, ""};
  const char* host_path = std::getenv("PATH");
  // STATUS is short by nature; a slow plugin must not hold Status up for long.
  const auto limit = std::min<std::chrono::milliseconds>(timeout(), std::chrono::seconds(2));
  for (const auto& plugin : net.plugins) {
    const std::string type = plugin["type"].get<std::string>();
    const json conf = plugin_conf(plugin, net);
    ExecResult r = run_plugin(find_plugin(type, dirs),
                               {"CNI_COMMAND=STATUS", "CNI_PATH=" + join(dirs, ":"),
                                std::string("PATH=") + (host_path ? host_path : "/usr/sbin:/usr/bin:/sbin:/bin")},
                               conf.dump(), limit);
    if (r.exit_code == 0) continue;
    std::string msg = r.timed_out ? "no answer to STATUS" : r.err;
    json err = json::parse(r.out, nullptr, false);
    if (err.is_object() && err.contains("msg") && err["msg"].is_string()) msg = err["msg"].get<std::string>();
    out = {false, "CNI plugin " + type + " of network " + net.name + " is not ready: " + msg};
    break;
  }
  std::lock_guard lock(status_mu_);
  status_key_ = key;
  status_at_ = std::chrono::steady_clock::now();
  status_ = out;
  return out;
}

std::string Cni::cache_path(const std::string& id, const std::string& ifname) const {
  return cache_dir_ + "/" + id + "-" + ifname + ".json";
}

void Cni::write_cache(const std::string& id, const std::string& ifname, const json& entry) const {
  write_file_atomic(cache_path(id, ifname), entry.dump());
}

std::optional<json> Cni::cached(const std::string& id, const std::string& ifname) const {
  auto text = read_file_if_exists(cache_path(id, ifname));
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    log::warn("ignoring a corrupt CNI cache entry", {{"path", cache_path(id, ifname)}});
    return std::nullopt;
  }
  // Not what crius writes (a hand edit, a damaged disk): as corrupt.
  try {
    NetworkList::from_json(j.at("network"), j.value("file", ""));
    Attachment::from_json(j.at("attachment"));
    (void)j.value("pluginDirs", std::vector<std::string>());
  } catch (const std::exception& e) {
    log::warn("ignoring a malformed CNI cache entry", {{"path", cache_path(id, ifname)}, {"error", e.what()}});
    return std::nullopt;
  }
  return j;
}

json Cni::invoke(const std::string& command, const NetworkList& net, size_t index, const Attachment& a,
                 const std::vector<std::string>& dirs, const std::optional<json>& prev) {
  const json& plugin = net.plugins[index];
  const std::string type = plugin["type"].get<std::string>();
  const std::string what = "CNI plugin " + type + " " + command + " (network " + net.name + ", pod sandbox " + a.id + ")";
  const std::string path = find_plugin(type, dirs);
  if (path.empty()) throw FailedPrecondition(what + ": plugin not found in " + join(dirs, ", "));

  json conf = plugin_conf(plugin, net);
  if (prev) conf["prevResult"] = *prev;
  json rc = runtime_config(plugin, a);
  if (!rc.empty()) conf["runtimeConfig"] = rc;

  const char* host_path = std::getenv("PATH");
  std::vector<std::string> env = {
      "CNI_COMMAND=" + command,
      "CNI_CONTAINERID=" + a.id,
      "CNI_NETNS=" + a.netns,
      "CNI_IFNAME=" + a.ifname,
      "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=" + a.pod_namespace + ";K8S_POD_NAME=" + a.pod_name +
          ";K8S_POD_INFRA_CONTAINER_ID=" + a.id + ";K8S_POD_UID=" + a.pod_uid,
      "CNI_PATH=" + join(dirs, ":"),
      // Plugins run iptables, ip and the like.
      std::string("PATH=") + (host_path ? host_path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
  };
  const auto start = std::chrono::steady_clock::now();
  const std::chrono::milliseconds limit = timeout();
  ExecResult r = run_plugin(path, env, conf.dump(), limit);
  log::debug("CNI plugin call", {{"plugin", type},
                                 {"command", command},
                                 {"id", a.id},
                                 {"exit", std::to_string(r.exit_code)},
                                 {"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           std::chrono::steady_clock::now() - start)
                                                           .count())}});
  if (r.timed_out)
    throw DeadlineExceeded(what + ": no answer within " + std::to_string(limit.count()) + "ms; killed");
  return plugin_answer(what, command, r);
}

void Cni::del_chain(const NetworkList& net, const Attachment& a, const std::vector<std::string>& dirs,
                    const std::optional<json>& prev, std::string* first_error) {
  // prevResult on DEL exists from 0.4.0 on.
  std::optional<json> p = version_at_least(net.cni_version, "0.4.0") ? prev : std::nullopt;
  for (size_t i = net.plugins.size(); i-- > 0;) {
    try {
      invoke("DEL", net, i, a, dirs, p);
    } catch (const Error& e) {
      if (first_error && first_error->empty()) *first_error = e.what();
      log::warn("CNI DEL failed", {{"id", a.id}, {"error", e.what()}});
    }
  }
}

class Cni::Timed {
 public:
  Timed(const Cni& cni, const char* operation)
      : cni_(cni), operation_(operation), start_(std::chrono::steady_clock::now()) {}
  ~Timed() {
    if (!cni_.observer_) return;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
    cni_.observer_(operation_, took.count());
  }

 private:
  const Cni& cni_;
  const char* operation_;
  std::chrono::steady_clock::time_point start_;
};

AddResult Cni::add(const conf::NetworkConfig& config, const Attachment& given) {
  Timed timed(*this, "ADD");
  Attachment a = given;
  a.pod_cidrs = pod_cidrs();
  Loaded l = load_first(config.cni_config_dir);
  if (!l.network) throw FailedPrecondition("network not ready: " + l.problem);
  const NetworkList& net = *l.network;
  // The cache is written before the first plugin runs, so that a crash in
  // the middle of ADD still leaves what DEL needs.
  json entry = {{"network", net.to_json()}, {"file", net.file}, {"attachment", a.to_json()},
                {"pluginDirs", config.cni_plugin_dirs}};
  write_cache(a.id, a.ifname, entry);
  std::optional<json> prev;
  try {
    for (size_t i = 0; i < net.plugins.size(); ++i) prev = invoke("ADD", net, i, a, config.cni_plugin_dirs, prev);
  } catch (...) {
    del_chain(net, a, config.cni_plugin_dirs, prev, nullptr);
    std::error_code ec;
    fs::remove(cache_path(a.id, a.ifname), ec);
    throw;
  }
  entry["result"] = *prev;
  try {
    write_cache(a.id, a.ifname, entry);
  } catch (...) {
    del_chain(net, a, config.cni_plugin_dirs, prev, nullptr);
    std::error_code ec;
    fs::remove(cache_path(a.id, a.ifname), ec);
    throw;
  }
  return {net.name, result_ips(*prev), *prev};
}

void Cni::del(const conf::NetworkConfig& config, const std::string& id, const std::string& ifname) {
  auto entry = cached(id, ifname);
  if (!entry) return;
  Timed timed(*this, "DEL");
  NetworkList net = NetworkList::from_json(entry->at("network"), entry->value("file", ""));
  Attachment a = Attachment::from_json(entry->at("attachment"));
  std::vector<std::string> dirs = entry->value("pluginDirs", config.cni_plugin_dirs);
  // Plugins may have moved since ADD: the current dirs are searched as well.
  for (const auto& d : config.cni_plugin_dirs)
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  std::optional<json> prev;
  if (entry->contains("result")) prev = entry->at("result");
  std::string error;
  del_chain(net, a, dirs, prev, &error);
  if (!error.empty()) throw Internal(error);
  std::error_code ec;
  fs::remove(cache_path(id, ifname), ec);
}

void Cni::gc(const conf::NetworkConfig& config, const std::set<std::string>& live_ids) {
  std::vector<nlohmann::json> valid;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(cache_dir_, ec)) {
    if (e.path().extension() != ".json") continue;
    auto text = read_file_if_exists(e.path());
    json entry = text ? json::parse(*text, nullptr, false) : json();
    if (!entry.is_object() || !entry.contains("attachment")) continue;
    Attachment a;
    try {
      a = Attachment::from_json(entry["attachment"]);
    } catch (const Error& ex) {
      log::warn("ignoring a malformed CNI cache entry", {{"path", e.path().string()}, {"error", ex.what()}});
      continue;
    }
    // Only the entry's own file: an ID or interface name that names another
    // path is not one crius wrote.
    if (e.path().filename() != a.id + "-" + a.ifname + ".json") {
      log::warn("ignoring a CNI cache entry that does not match its file name", {{"path", e.path().string()}});
      continue;
    }
    if (live_ids.count(a.id)) {
      valid.push_back({{"containerID", a.id}, {"ifname", a.ifname}});
      continue;
    }
    log::info("deleting a CNI attachment whose pod sandbox is gone", {{"id", a.id}});
    try {
      del(config, a.id, a.ifname);
    } catch (const std::exception& ex) {
      log::warn("CNI garbage collection: DEL failed", {{"id", a.id}, {"error", ex.what()}});
    }
  }

  Loaded l = load_first(config.cni_config_dir);
  if (!l.network || !version_at_least(l.network->cni_version, "1.1.0")) return;
  const char* host_path = std::getenv("PATH");
  for (const auto& plugin : l.network->plugins) {
    const std::string type = plugin["type"].get<std::string>();
    const std::string path = find_plugin(type, config.cni_plugin_dirs);
    if (path.empty()) continue;
    json conf = plugin_conf(plugin, *l.network);
    conf["cni.dev/valid-attachments"] = valid;
    ExecResult r = run_plugin(path,
                               {"CNI_COMMAND=GC", "CNI_PATH=" + join(config.cni_plugin_dirs, ":"),
                                std::string("PATH=") + (host_path ? host_path : "/usr/sbin:/usr/bin:/sbin:/bin")},
                               conf.dump(), timeout());
    if (r.timed_out || r.exit_code != 0)
      log::warn("CNI GC failed", {{"plugin", type}, {"output", r.out.empty() ? r.err : r.out}});
  }
}

void Cni::check(const conf::NetworkConfig& config, const std::string& id, const std::string& ifname) {
  auto entry = cached(id, ifname);
  if (!entry || !entry->contains("result")) throw NotFound("no CNI attachment cached for pod sandbox " + id);
  NetworkList net = NetworkList::from_json(entry->at("network"), entry->value("file", ""));
  if (!version_at_least(net.cni_version, "0.4.0") || net.disable_check) return;
  Attachment a = Attachment::from_json(entry->at("attachment"));
  std::optional<json> prev = entry->at("result");
  Timed timed(*this, "CHECK");
  for (size_t i = 0; i < net.plugins.size(); ++i) invoke("CHECK", net, i, a, config.cni_plugin_dirs, prev);
}

}  // namespace crius::cni
