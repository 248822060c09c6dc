#include "oci/cdi/edits.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "base/error.h"
#include "oci/cdi/names.h"

namespace crius::oci::cdi {
namespace {

using nlohmann::json;

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Which source set each env name, node path, mount destination…, and to
// what; a second source with another value is a conflict.
class Claims {
 public:
  explicit Claims(std::string what) : what_(std::move(what)) {}

  // True when `value` is new for `key` (apply it); false when it is already
  // there as is. A source may repeat a key: its last value wins.
  bool claim(const std::string& key, const json& value, const std::string& source) {
    auto [it, added] = seen_.try_emplace(key, Claim{value, source});
    if (added) return true;
    if (it->second.value == value) return false;
    if (it->second.source != source)
      throw InvalidArgument("CDI devices " + it->second.source + " and " + source + " conflict: they set " + what_ +
                            (key.empty() ? "" : " " + key) + " to different values (" + it->second.value.dump() +
                            " and " + value.dump() + ")");
    it->second.value = value;
    return true;
  }

 private:
  struct Claim {
    json value;
    std::string source;
  };
  std::string what_;
  std::map<std::string, Claim> seen_;
};

json& array_at(json& parent, const char* key) {
  json& a = parent[key];
  if (!a.is_array()) a = json::array();
  return a;
}

void push_unique(json& array, const json& value) {
  if (std::find(array.begin(), array.end(), value) == array.end()) array.push_back(value);
}

void apply_env(json& process, const std::string& entry) {
  const std::string prefix = entry.substr(0, entry.find('=') + 1);
  json& env = array_at(process, "env");
  for (auto& e : env)
    if (e.is_string() && e.get_ref<const std::string&>().starts_with(prefix)) {
      e = entry;
      return;
    }
  env.push_back(entry);
}

// The OCI device of a CDI device node, with what the spec left out read from
// the host node; the process's uid and gid when it sets none.
json oci_device(const DeviceNode& n, const json& user, const std::string& source) {
  std::string type = n.type;
  std::optional<int64_t> major = n.major, minor = n.minor;
  if (type.empty() || (!major && type != "p")) {
    const std::string host = n.host_path.empty() ? n.path : n.host_path;
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0)
      throw FailedPrecondition("CDI device " + source + ": host device node " + host + ": " + std::strerror(errno));
    std::string host_type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : S_ISFIFO(st.st_mode) ? "p" : "";
    if (host_type.empty())
      throw FailedPrecondition("CDI device " + source + ": host path " + host + " is not a device node");
    if (type.empty()) type = host_type;
    else if (type != host_type && !(type == "u" && host_type == "c"))
      throw FailedPrecondition("CDI device " + source + ": " + n.path + " is of type " + type + " but host node " +
                               host + " is of type " + host_type);
    if (!major && type != "p") {
      major = static_cast<int64_t>(::major(st.st_rdev));
      minor = static_cast<int64_t>(::minor(st.st_rdev));
    }
  }
  json d = {{"path", n.path}, {"type", type}};
  if (type != "p") {
    d["major"] = major.value_or(0);
    d["minor"] = minor.value_or(0);
  }
  // Permission bits only: the spec's fileMode may carry Go's file type bits.
  if (n.file_mode) d["fileMode"] = *n.file_mode & 0777;
  const auto id_of = [&](const std::optional<uint32_t>& set, const char* key) -> std::optional<uint32_t> {
    if (set) return set;
    if (user.is_object() && user.contains(key) && user[key].is_number_integer() && user[key].get<int64_t>() > 0)
      return static_cast<uint32_t>(user[key].get<int64_t>());
    return std::nullopt;
  };
  if (auto uid = id_of(n.uid, "uid")) d["uid"] = *uid;
  if (auto gid = id_of(n.gid, "gid")) d["gid"] = *gid;
  return d;
}

json process_user(const json& oci) {
  if (!oci.contains("process") || !oci["process"].is_object()) return json::object();
  return oci["process"].value("user", json::object());
}

void apply_device(json& oci, const json& dev, const std::string& permissions) {
  json& devices = array_at(oci["linux"], "devices");
  devices.erase(std::remove_if(devices.begin(), devices.end(),
                               [&](const json& d) { return d.value("path", "") == dev["path"]; }),
                devices.end());
  devices.push_back(dev);
  const std::string type = dev["type"];
  if (type == "p") return;  // the device cgroup knows block and char devices only
  push_unique(array_at(oci["linux"]["resources"], "devices"),
              json{{"allow", true},
                   {"type", type == "u" ? "c" : type},
                   {"major", dev["major"]},
                   {"minor", dev["minor"]},
                   {"access", permissions.empty() ? "rwm" : permissions}});
}

std::string clean(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  if (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

json oci_mount(const Mount& m) {
  json j = {{"destination", m.container_path}, {"source", m.host_path}};
  if (!m.type.empty()) j["type"] = m.type;
  if (!m.options.empty()) j["options"] = m.options;
  return j;
}

void apply_mount(json& oci, const json& mount) {
  const std::string dest = clean(mount["destination"]);
  json& mounts = array_at(oci, "mounts");
  mounts.erase(std::remove_if(mounts.begin(), mounts.end(),
                              [&](const json& m) { return clean(m.value("destination", "")) == dest; }),
               mounts.end());
  mounts.push_back(mount);
}

// Parents before children: a mount is never hidden by one made after it
// higher up. Stable, so mounts at the same depth keep their order.
void order_mounts(json& oci) {
  auto depth = [](const json& m) {
    const std::string d = clean(m.value("destination", ""));
    return d == "/" ? 0 : static_cast<int>(std::count(d.begin(), d.end(), '/'));
  };
  std::vector<json> mounts(oci["mounts"].begin(), oci["mounts"].end());
  std::stable_sort(mounts.begin(), mounts.end(), [&](const json& a, const json& b) { return depth(a) < depth(b); });
  oci["mounts"] = mounts;
}

json oci_hook(const Hook& h) {
  json j = {{"path", h.path}};
  if (!h.args.empty()) j["args"] = h.args;
  if (!h.env.empty()) j["env"] = h.env;
  if (h.timeout) j["timeout"] = *h.timeout;
  return j;
}

json oci_intel_rdt(const IntelRdt& r) {
  json j = json::object();
  if (!r.clos_id.empty()) j["closID"] = r.clos_id;
  if (!r.l3_cache_schema.empty()) j["l3CacheSchema"] = r.l3_cache_schema;
  if (!r.mem_bw_schema.empty()) j["memBwSchema"] = r.mem_bw_schema;
  if (r.enable_cmt) j["enableCMT"] = true;
  if (r.enable_mbm) j["enableMBM"] = true;
  return j;
}

}  // namespace

std::vector<SourcedEdits> resolve(const Catalog& catalog, const std::vector<Request>& requests) {
  std::vector<SourcedEdits> parts;
  std::set<std::string> asked;
  std::set<const Spec*> specs;
  std::vector<std::string> unknown;
  for (const auto& r : requests) {
    QualifiedName q;
    try {
      q = parse_qualified_name(r.name);
    } catch (const Error& e) {
      throw InvalidArgument(r.origin + ": " + e.what());
    }
    const std::string name = q.str();
    if (!asked.insert(name).second) continue;
    auto it = catalog.devices.find(name);
    if (it == catalog.devices.end()) {
      unknown.push_back(name + " (" + r.origin + ")");
      continue;
    }
    const Spec& spec = *it->second.spec;
    if (specs.insert(&spec).second && !spec.edits.empty())
      parts.push_back({spec.kind + " (" + spec.path + ")", &spec.edits});
    parts.push_back({name, &it->second.device->edits});
  }
  if (!unknown.empty())
    throw NotFound("unknown CDI device" + std::string(unknown.size() > 1 ? "s " : " ") + join(unknown, ", ") +
                   ": no spec file in " + (catalog.dirs.empty() ? "(no CDI spec dirs)" : join(catalog.dirs, ", ")) +
                   " defines " + (unknown.size() > 1 ? "them" : "it"));
  return parts;
}

void apply_edits(json& oci, const std::vector<SourcedEdits>& parts) {
  json out = oci;
  Claims env("env"), nodes("device node"), mounts("mount at"), rdt("intelRdt");
  bool mounted = false;
  for (const auto& [source, e] : parts) {
    for (const auto& entry : e->env) {
      const std::string name = entry.substr(0, entry.find('='));
      if (env.claim(name, entry.substr(name.size() + 1), source)) apply_env(out["process"], entry);
    }
    for (const auto& n : e->device_nodes) {
      const json dev = oci_device(n, process_user(out), source);
      json claimed = dev;
      claimed["permissions"] = n.permissions.empty() ? "rwm" : n.permissions;
      if (nodes.claim(n.path, claimed, source)) apply_device(out, dev, n.permissions);
    }
    for (const auto& m : e->mounts) {
      const json mount = oci_mount(m);
      if (mounts.claim(clean(m.container_path), mount, source)) {
        apply_mount(out, mount);
        mounted = true;
      }
    }
    for (const auto& h : e->hooks) push_unique(array_at(out["hooks"], h.hook_name.c_str()), oci_hook(h));
    if (e->intel_rdt && rdt.claim("", oci_intel_rdt(*e->intel_rdt), source))
      out["linux"]["intelRdt"] = oci_intel_rdt(*e->intel_rdt);
    for (uint32_t gid : e->additional_gids)
      if (gid != 0) push_unique(array_at(out["process"]["user"], "additionalGids"), gid);
  }
  if (mounted) order_mounts(out);
  oci = std::move(out);
}

}  // namespace crius::oci::cdi
