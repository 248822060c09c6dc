#include "client/status_json.h"

#include <ctime>
#include <map>
#include <stdexcept>

namespace crius::client {
namespace {

Doc info_of(const google::protobuf::Map<std::string, std::string>& info, const std::string& key) {
  auto it = info.find(key);
  return it == info.end() ? Doc(nullptr) : parse_info_value(it->second);
}

Doc string_map(const google::protobuf::Map<std::string, std::string>& m) {
  Doc out = Doc::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

Doc filesystems(const google::protobuf::RepeatedPtrField<v1::FilesystemUsage>& list) {
  Doc out = Doc::array();
  for (const auto& u : list)
    out.push_back({{"mountpoint", u.fs_id().mountpoint()},
                   {"usedBytes", u.used_bytes().value()},
                   {"inodesUsed", u.inodes_used().value()}});
  return out;
}

// The pods by ID, for the containers table's POD column.
std::map<std::string, const v1::PodSandbox*> pods_by_id(const v1::ListPodSandboxResponse& pods) {
  std::map<std::string, const v1::PodSandbox*> out;
  for (const auto& p : pods.items()) out[p.id()] = &p;
  return out;
}

}  // namespace

Doc parse_info_value(const std::string& value) {
  Doc parsed = Doc::parse(value, nullptr, false);
  return parsed.is_discarded() ? Doc(value) : parsed;
}

std::string timestamp_text(int64_t ns) {
  if (ns <= 0) return "";
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string state_name(v1::ContainerState s) {
  switch (s) {
    case v1::CONTAINER_CREATED: return "created";
    case v1::CONTAINER_RUNNING: return "running";
    case v1::CONTAINER_EXITED: return "exited";
    default: return "unknown";
  }
}

std::string state_name(v1::PodSandboxState s) { return s == v1::SANDBOX_READY ? "ready" : "notready"; }

Doc info_document(const InfoAnswers& a) {
  const auto& info = a.status.info();
  Doc d;
  d["socket"] = a.socket;
  d["version"] = {{"runtimeName", a.version.runtime_name()},
                  {"runtimeVersion", a.version.runtime_version()},
                  {"runtimeApiVersion", a.version.runtime_api_version()}};
  Doc conditions = Doc::array();
  for (const auto& c : a.status.status().conditions())
    conditions.push_back({{"type", c.type()}, {"status", c.status()}, {"reason", c.reason()}, {"message", c.message()}});
  d["conditions"] = conditions;

  // The driver as RuntimeConfig reports it (what kubelet checks), the rest
  // from the daemon's verbose info.
  Doc cgroup = info_of(info, "cgroup");
  if (!cgroup.is_object()) cgroup = Doc::object();
  cgroup["driver"] = a.runtime_config.linux().cgroup_driver() == v1::SYSTEMD ? "systemd" : "cgroupfs";
  d["cgroup"] = cgroup;

  Doc handlers = Doc::array();
  for (const auto& h : a.status.runtime_handlers())
    handlers.push_back({{"name", h.name()},
                        {"recursiveReadOnlyMounts", h.features().recursive_read_only_mounts()},
                        {"userNamespaces", h.features().user_namespaces()}});
  d["runtimeHandlers"] = handlers;

  Doc network = info_of(info, "cni");
  if (!network.is_object()) network = Doc::object();
  for (const auto& c : a.status.status().conditions())
    if (c.type() == "NetworkReady") {
      network["ready"] = c.status();
      network["message"] = c.message();
    }
  d["network"] = network;

  const Doc config = info_of(info, "config");
  d["storage"] = {{"root", config.is_object() ? config.value("root", "") : ""},
                  {"state", config.is_object() ? config.value("state", "") : ""},
                  {"imageFilesystems", filesystems(a.fs.image_filesystems())},
                  {"containerFilesystems", filesystems(a.fs.container_filesystems())}};

  Doc pods = {{"total", a.pods.items_size()}, {"ready", 0}, {"notready", 0}};
  for (const auto& p : a.pods.items()) pods[state_name(p.state())] = pods[state_name(p.state())].get<int>() + 1;
  d["pods"] = pods;
  Doc containers = {{"total", a.containers.containers_size()}, {"created", 0}, {"running", 0}, {"exited", 0}, {"unknown", 0}};
  for (const auto& c : a.containers.containers())
    containers[state_name(c.state())] = containers[state_name(c.state())].get<int>() + 1;
  d["containers"] = containers;
  return d;
}

Doc config_document(const v1::StatusResponse& status) {
  Doc config = info_of(status.info(), "config");
  if (!config.is_object()) throw std::runtime_error("the daemon's verbose Status has no config");
  return config;
}

Doc containers_document(const v1::ListContainersResponse& list, const v1::ListPodSandboxResponse& pods) {
  const auto by_id = pods_by_id(pods);
  Doc out = Doc::array();
  for (const auto& c : list.containers()) {
    auto pod = by_id.find(c.pod_sandbox_id());
    out.push_back({{"id", c.id()},
                   {"name", c.metadata().name()},
                   {"attempt", c.metadata().attempt()},
                   {"state", state_name(c.state())},
                   {"podId", c.pod_sandbox_id()},
                   {"podName", pod == by_id.end() ? "" : pod->second->metadata().name()},
                   {"image", c.image().image()},
                   {"imageRef", c.image_ref()},
                   {"createdAt", timestamp_text(c.created_at())}});
  }
  return out;
}

Doc container_document(const v1::ContainerStatusResponse& res) {
  const auto& s = res.status();
  const Doc info = info_of(res.info(), "info");
  auto from_info = [&](const char* key, Doc fallback) {
    return info.is_object() && info.contains(key) ? info[key] : fallback;
  };
  Doc mounts = Doc::array();
  for (const auto& m : s.mounts())
    mounts.push_back({{"containerPath", m.container_path()}, {"hostPath", m.host_path()}, {"readonly", m.readonly()}});
  Doc d = {{"id", s.id()},
           {"name", s.metadata().name()},
           {"attempt", s.metadata().attempt()},
           {"state", state_name(s.state())},
           {"podId", from_info("sandboxID", "")},
           {"image", s.image().image()},
           {"imageRef", s.image_ref()},
           {"createdAt", timestamp_text(s.created_at())},
           {"startedAt", timestamp_text(s.started_at())},
           {"finishedAt", timestamp_text(s.finished_at())},
           {"exitCode", s.exit_code()},
           {"reason", s.reason()},
           {"message", s.message()},
           {"logPath", s.log_path()},
           {"runtimeHandler", from_info("runtimeHandler", "")},
           {"pid", from_info("pid", 0)},
           {"monitorPid", from_info("monitorPid", 0)},
           {"cgroupPath", from_info("cgroupPath", "")},
           {"bundle", from_info("bundle", "")},
           {"rootfs", from_info("rootfs", "")},
           {"rootfsMount", from_info("rootfsMount", nullptr)},
           {"podNamespaces", from_info("podNamespaces", Doc::object())},
           {"mounts", mounts},
           {"labels", string_map(s.labels())},
           {"annotations", string_map(s.annotations())}};
  d["info"] = info;  // everything the daemon said, runtimeSpec included
  return d;
}

Doc pods_document(const v1::ListPodSandboxResponse& list, const v1::ListContainersResponse& containers) {
  std::map<std::string, int> count;
  for (const auto& c : containers.containers()) ++count[c.pod_sandbox_id()];
  Doc out = Doc::array();
  for (const auto& p : list.items())
    out.push_back({{"id", p.id()},
                   {"name", p.metadata().name()},
                   {"namespace", p.metadata().namespace_()},
                   {"uid", p.metadata().uid()},
                   {"attempt", p.metadata().attempt()},
                   {"state", state_name(p.state())},
                   {"runtimeHandler", p.runtime_handler()},
                   {"containers", count[p.id()]},
                   {"createdAt", timestamp_text(p.created_at())}});
  return out;
}

Doc pod_document(const v1::PodSandboxStatusResponse& res) {
  const auto& s = res.status();
  const Doc info = info_of(res.info(), "info");
  auto from_info = [&](const char* key, Doc fallback) {
    return info.is_object() && info.contains(key) ? info[key] : fallback;
  };
  Doc ips = Doc::array();
  if (!s.network().ip().empty()) ips.push_back(s.network().ip());
  for (const auto& ip : s.network().additional_ips()) ips.push_back(ip.ip());
  Doc d = {{"id", s.id()},
           {"name", s.metadata().name()},
           {"namespace", s.metadata().namespace_()},
           {"uid", s.metadata().uid()},
           {"attempt", s.metadata().attempt()},
           {"state", state_name(s.state())},
           {"createdAt", timestamp_text(s.created_at())},
           {"runtimeHandler", s.runtime_handler()},
           {"network", from_info("network", "")},
           {"ips", ips},
           {"namespaces", from_info("namespaces", Doc::object())},
           {"cgroupParent", from_info("cgroupParent", "")},
           {"cgroupPath", from_info("cgroupPath", "")},
           {"monitorPid", from_info("monitorPid", 0)},
           {"pausePid", from_info("pausePid", 0)},
           {"runDir", from_info("runDir", "")},
           {"labels", string_map(s.labels())},
           {"annotations", string_map(s.annotations())}};
  d["info"] = info;
  return d;
}

Doc images_document(const v1::ListImagesResponse& list) {
  Doc out = Doc::array();
  for (const auto& i : list.images()) {
    Doc tags = Doc::array(), digests = Doc::array();
    for (const auto& t : i.repo_tags()) tags.push_back(t);
    for (const auto& t : i.repo_digests()) digests.push_back(t);
    out.push_back({{"id", i.id()}, {"repoTags", tags}, {"repoDigests", digests}, {"size", i.size()}, {"pinned", i.pinned()}});
  }
  return out;
}

}  // namespace crius::client
