#include "sandbox/record.h"

#include "base/json_records.h"

namespace crius::sandbox {
using nlohmann::json;

namespace {

json ranges_json(const std::vector<IdRange>& v) {
  json out = json::array();
  for (const auto& r : v) out.push_back({{"hostId", r.host_id}, {"containerId", r.container_id}, {"length", r.length}});
  return out;
}

std::vector<IdRange> ranges_from(const json& j) {
  std::vector<IdRange> out;
  for (const auto& r : j)
    out.push_back({r.value("hostId", 0u), r.value("containerId", 0u), r.value("length", 0u)});
  return out;
}

// Records from before user namespaces kept only a bool (always false, as
// such pods were refused): the node's.
UsernsSpec userns_from(const json& j) {
  UsernsSpec u;
  if (!j.is_object()) return u;
  u.mode = static_cast<NsMode>(j.value("mode", static_cast<int>(NsMode::node)));
  u.uids = ranges_from(j.value("uids", json::array()));
  u.gids = ranges_from(j.value("gids", json::array()));
  return u;
}

}  // namespace

void to_json(json& j, const PodSpec& s) {
  json ports = json::array();
  for (const auto& p : s.port_mappings)
    ports.push_back({{"protocol", p.protocol}, {"containerPort", p.container_port}, {"hostPort", p.host_port},
                     {"hostIP", p.host_ip}});
  j = {{"name", s.name},
       {"uid", s.uid},
       {"namespace", s.namespace_},
       {"attempt", s.attempt},
       {"hostname", s.hostname},
       {"logDirectory", s.log_directory},
       {"dns", {{"servers", s.dns.servers}, {"searches", s.dns.searches}, {"options", s.dns.options}}},
       {"portMappings", ports},
       {"labels", s.labels},
       {"annotations", s.annotations},
       {"cgroupParent", s.cgroup_parent},
       {"sysctls", s.sysctls},
       {"nsNetwork", static_cast<int>(s.network)},
       {"nsPid", static_cast<int>(s.pid)},
       {"nsIpc", static_cast<int>(s.ipc)},
       {"targetId", s.target_id},
       {"userns", {{"mode", static_cast<int>(s.userns.mode)}, {"uids", ranges_json(s.userns.uids)},
                   {"gids", ranges_json(s.userns.gids)}}},
       {"runtimeHandler", s.runtime_handler},
       {"config", s.config}};
}

void from_json(const json& j, PodSpec& s) {
  using strings = std::vector<std::string>;
  using smap = std::map<std::string, std::string>;
  s.name = j.value("name", "");
  s.uid = j.value("uid", "");
  s.namespace_ = j.value("namespace", "");
  s.attempt = j.value("attempt", 0u);
  s.hostname = j.value("hostname", "");
  s.log_directory = j.value("logDirectory", "");
  const json dns = j.value("dns", json::object());
  s.dns.servers = dns.value("servers", strings());
  s.dns.searches = dns.value("searches", strings());
  s.dns.options = dns.value("options", strings());
  s.port_mappings.clear();
  for (const auto& p : j.value("portMappings", json::array()))
    s.port_mappings.push_back({p.value("protocol", "tcp"), p.value("containerPort", 0), p.value("hostPort", 0),
                               p.value("hostIP", "")});
  s.labels = j.value("labels", smap());
  s.annotations = j.value("annotations", smap());
  s.cgroup_parent = j.value("cgroupParent", "");
  s.sysctls = j.value("sysctls", smap());
  s.network = static_cast<NsMode>(j.value("nsNetwork", 0));
  s.pid = static_cast<NsMode>(j.value("nsPid", 1));
  s.ipc = static_cast<NsMode>(j.value("nsIpc", 0));
  s.target_id = j.value("targetId", "");
  s.userns = userns_from(j.value("userns", json()));
  s.runtime_handler = j.value("runtimeHandler", "");
  s.config = j.value("config", json::object());
}

json Record::to_json() const {
  return {{"id", id},
          {"spec", spec},
          {"state", state == State::ready ? "ready" : "notready"},
          {"createdAt", created_at},
          {"runtimeHandler", runtime_handler},
          {"handler", {{"type", handler.type}, {"path", handler.path}}},
          {"network", network},
          {"ips", ips},
          {"cniAttached", cni_attached},
          {"namespaces", namespaces},
          {"runDir", run_dir},
          {"hostnamePath", hostname_path},
          {"resolvConfPath", resolv_conf_path},
          {"hostsPath", hosts_path},
          {"shmPath", shm_path},
          {"shmMounted", shm_mounted},
          {"pausePid", pause_pid},
          {"cgroupParent", cgroup_parent},
          {"cgroupCreated", cgroup_created},
          {"podResources", pod_resources}};
}

Record Record::from_json(const json& j) {
  Record r;
  r.id = j.at("id").get<std::string>();
  r.spec = j.at("spec").get<PodSpec>();
  r.state = j.value("state", "notready") == "ready" ? State::ready : State::notready;
  r.created_at = j.value("createdAt", int64_t{0});
  r.runtime_handler = j.value("runtimeHandler", "");
  if (const auto h = j.value("handler", json::object()); h.is_object()) {
    r.handler.type = h.value("type", "");
    r.handler.path = h.value("path", "");
  }
  r.network = j.value("network", "");
  r.ips = j.value("ips", std::vector<std::string>());
  r.cni_attached = j.value("cniAttached", false);
  r.namespaces = j.value("namespaces", std::map<std::string, std::string>());
  r.run_dir = j.value("runDir", "");
  r.hostname_path = j.value("hostnamePath", "");
  r.resolv_conf_path = j.value("resolvConfPath", "");
  r.hosts_path = j.value("hostsPath", "");
  r.shm_path = j.value("shmPath", "");
  r.shm_mounted = j.value("shmMounted", false);
  r.pause_pid = j.value("pausePid", 0);
  r.cgroup_parent = j.value("cgroupParent", "");
  r.cgroup_created = j.value("cgroupCreated", std::vector<std::string>());
  r.pod_resources = j.value("podResources", nlohmann::json());
  return r;
}

void save(const std::string& dir, const Record& r) { save_json_record(dir, r.id, r.to_json()); }

void erase_record(const std::string& dir, const std::string& id) { erase_json_record(dir, id, "sandbox record"); }

std::vector<Record> load_all(const std::string& dir) {
  return load_json_records<Record>(dir, "sandbox record", [](const json& j) { return Record::from_json(j); });
}

}  // namespace crius::sandbox
