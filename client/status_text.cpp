#include "client/status_text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <utility>

namespace crius::client {
namespace {

// IDs are shown as crictl shows them: the first 13 hex digits.
std::string short_id(std::string id) {
  if (id.starts_with("sha256:")) id.erase(0, 7);
  return id.substr(0, 13);
}

std::string str(const Doc& d, const char* key) {
  auto it = d.find(key);
  if (it == d.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string join(const Doc& list, const std::string& sep) {
  std::string out;
  for (const auto& v : list) {
    if (!out.empty()) out += sep;
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

// "Label:" padded so that values line up, then the value; empty values are left out.
class Lines {
 public:
  void add(const std::string& label, const std::string& value) {
    if (!value.empty()) rows_.emplace_back(label, value);
  }
  std::string text() const {
    size_t width = 0;
    for (const auto& [l, v] : rows_) width = std::max(width, l.size());
    std::string out;
    for (const auto& [l, v] : rows_) out += l + ":" + std::string(width - l.size() + 1, ' ') + v + "\n";
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

// "net /run/…/net, ipc /run/…/ipc" from a kind → path object.
std::string namespaces_text(const Doc& ns) {
  std::string out;
  if (!ns.is_object()) return out;
  for (const auto& [kind, path] : ns.items()) {
    if (!out.empty()) out += ", ";
    out += kind + " " + (path.is_string() ? path.get<std::string>() : path.dump());
  }
  return out;
}

bool needs_quotes(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return true;
  if (s.find_first_of(":#{}[],&*!|>'\"%@`\n\t") != std::string::npos) return true;
  if (s.front() == '-' || s.front() == '?') return true;
  static const char* const kWords[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"};
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* w : kWords)
    if (lower == w) return true;
  // A number would come back as one.
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) || c == '.' || c == '+'; });
}

std::string scalar(const Doc& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return needs_quotes(s) ? v.dump() : s;  // a JSON string is a YAML double-quoted one
  }
  return v.is_null() ? "null" : v.dump();
}

bool is_scalar_list(const Doc& v) {
  return v.is_array() && std::all_of(v.begin(), v.end(), [](const Doc& e) { return e.is_primitive(); });
}

void yaml_into(const Doc& v, int indent, std::string& out) {
  const std::string pad(indent, ' ');
  for (const auto& [key, value] : v.items()) {
    out += pad + (needs_quotes(key) ? Doc(key).dump() : key) + ":";
    if (value.is_object() && !value.empty()) {
      out += "\n";
      yaml_into(value, indent + 2, out);
    } else if (value.is_object()) {
      out += " {}\n";
    } else if (is_scalar_list(value)) {
      std::string items;
      for (const auto& e : value) items += (items.empty() ? "" : ", ") + scalar(e);
      out += " [" + items + "]\n";
    } else if (value.is_array()) {
      out += "\n";
      for (const auto& e : value) {
        if (e.is_object() && !e.empty()) {
          // "- " then the object's keys, the first on the dash's line.
          std::string body;
          yaml_into(e, indent + 4, body);
          out += pad + "  - " + body.substr(indent + 4);
        } else {
          out += pad + "  - " + scalar(e) + "\n";
        }
      }
    } else {
      out += " " + scalar(value) + "\n";
    }
  }
}

std::string filesystem_line(const Doc& fs) {
  return str(fs, "mountpoint") + ": " + human_bytes(fs.value("usedBytes", uint64_t{0})) + ", " +
         std::to_string(fs.value("inodesUsed", uint64_t{0})) + " inodes";
}

// "3 (running 2, exited 1)": the total, then the states that have any.
std::string counts(const Doc& c) {
  std::string parts;
  for (const auto& [state, n] : c.items()) {
    if (state == "total" || n.get<int>() == 0) continue;
    parts += (parts.empty() ? "" : ", ") + state + " " + std::to_string(n.get<int>());
  }
  std::string out = std::to_string(c.value("total", 0));
  return parts.empty() ? out : out + " (" + parts + ")";
}

}  // namespace

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string yaml_text(const Doc& value) {
  if (!value.is_object()) return scalar(value) + "\n";
  std::string out;
  yaml_into(value, 0, out);
  return out;
}

std::string info_text(const Doc& d) {
  Lines l;
  const Doc& v = d.at("version");
  l.add("Runtime", str(v, "runtimeName") + " " + str(v, "runtimeVersion") + " (CRI " + str(v, "runtimeApiVersion") + ")");
  l.add("Socket", str(d, "socket"));
  for (const auto& c : d.at("conditions")) {
    std::string text = c.value("status", false) ? "true" : "false";
    if (!str(c, "reason").empty()) text += " (" + str(c, "reason") + ": " + str(c, "message") + ")";
    l.add(str(c, "type"), text);
  }
  const Doc& cg = d.at("cgroup");
  std::string cgroup = "driver " + str(cg, "driver");
  if (cg.contains("hierarchy")) cgroup += ", hierarchy " + str(cg, "hierarchy");
  if (!str(cg, "unifiedMount").empty()) cgroup += " (" + str(cg, "unifiedMount") + ")";
  l.add("Cgroups", cgroup);
  const Doc& net = d.at("network");
  std::string network = str(net, "network").empty() ? "(none)" : str(net, "network");
  if (!str(net, "file").empty())
    network += " from " + str(net, "file") + ", cniVersion " + str(net, "cniVersion") + ", plugins " +
               join(net.value("plugins", Doc::array()), ", ");
  network += net.value("ready", false) ? "; ready" : "; not ready";
  if (!str(net, "message").empty()) network += ": " + str(net, "message");
  l.add("CNI network", network);
  const Doc& st = d.at("storage");
  l.add("Storage root", str(st, "root"));
  l.add("State dir", str(st, "state"));
  for (const auto& fs : st.at("imageFilesystems")) l.add("Images use", filesystem_line(fs));
  for (const auto& fs : st.at("containerFilesystems")) l.add("Containers use", filesystem_line(fs));
  l.add("Pods", counts(d.at("pods")));
  l.add("Containers", counts(d.at("containers")));
  std::string out = l.text() + "Runtime handlers:\n";
  std::vector<std::vector<std::string>> rows{{"  NAME", "RECURSIVE RO MOUNTS", "USER NAMESPACES"}};
  for (const auto& h : d.at("runtimeHandlers"))
    rows.push_back({"  " + (str(h, "name").empty() ? std::string("(default)") : str(h, "name")),
                    yes_no(h.value("recursiveReadOnlyMounts", false)), yes_no(h.value("userNamespaces", false))});
  return out + table(rows);
}

std::string config_text(const Doc& config) { return yaml_text(config); }

std::string containers_text(const Doc& list) {
  std::vector<std::vector<std::string>> rows{{"CONTAINER", "NAME", "STATE", "ATTEMPT", "POD ID", "POD", "IMAGE", "CREATED"}};
  for (const auto& c : list)
    rows.push_back({short_id(str(c, "id")), str(c, "name"), str(c, "state"), str(c, "attempt"), short_id(str(c, "podId")),
                    str(c, "podName"), str(c, "image"), str(c, "createdAt")});
  return table(rows);
}

std::string container_text(const Doc& c) {
  Lines l;
  l.add("ID", str(c, "id"));
  l.add("Name", str(c, "name") + " (attempt " + str(c, "attempt") + ")");
  std::string state = str(c, "state");
  if (state == "exited") {
    state += ", exit code " + str(c, "exitCode");
    if (!str(c, "reason").empty()) state += " (" + str(c, "reason") + ")";
  }
  l.add("State", state);
  l.add("Message", str(c, "message"));
  l.add("Pod", str(c, "podId"));
  l.add("Image", str(c, "image"));
  l.add("Image ref", str(c, "imageRef"));
  l.add("Runtime handler", str(c, "runtimeHandler"));
  l.add("Created", str(c, "createdAt"));
  l.add("Started", str(c, "startedAt"));
  l.add("Finished", str(c, "finishedAt"));
  if (c.value("pid", 0) > 0) l.add("PID", str(c, "pid"));
  l.add("Monitor PID", c.value("monitorPid", 0) > 0 ? str(c, "monitorPid") : "none running");
  l.add("Cgroup", str(c, "cgroupPath"));
  std::string rootfs = str(c, "rootfs");
  if (const Doc& m = c.value("rootfsMount", Doc()); m.is_object())
    rootfs += " (" + str(m, "type") + " " + str(m, "source") + ", " + str(m, "superOptions") + ")";
  else if (!rootfs.empty())
    rootfs += " (not mounted)";
  l.add("Rootfs", rootfs);
  l.add("Bundle", str(c, "bundle"));
  l.add("Log", str(c, "logPath"));
  l.add("Pod namespaces", namespaces_text(c.value("podNamespaces", Doc::object())));
  std::string out = l.text();
  if (!c.value("mounts", Doc::array()).empty()) {
    out += "Mounts:\n";
    for (const auto& m : c.at("mounts"))
      out += "  " + str(m, "hostPath") + " -> " + str(m, "containerPath") + (m.value("readonly", false) ? " (ro)" : "") +
             "\n";
  }
  return out;
}

std::string pods_text(const Doc& list) {
  std::vector<std::vector<std::string>> rows{
      {"POD ID", "NAME", "NAMESPACE", "STATE", "ATTEMPT", "CONTAINERS", "RUNTIME", "CREATED"}};
  for (const auto& p : list)
    rows.push_back({short_id(str(p, "id")), str(p, "name"), str(p, "namespace"), str(p, "state"), str(p, "attempt"),
                    str(p, "containers"), str(p, "runtimeHandler").empty() ? "(default)" : str(p, "runtimeHandler"),
                    str(p, "createdAt")});
  return table(rows);
}

std::string pod_text(const Doc& p) {
  Lines l;
  l.add("ID", str(p, "id"));
  l.add("Name", str(p, "namespace") + "/" + str(p, "name") + " (attempt " + str(p, "attempt") + ")");
  l.add("UID", str(p, "uid"));
  l.add("State", str(p, "state"));
  l.add("Created", str(p, "createdAt"));
  l.add("Runtime handler", str(p, "runtimeHandler"));
  l.add("Network", str(p, "network"));
  l.add("IPs", join(p.value("ips", Doc::array()), ", "));
  l.add("Namespaces", namespaces_text(p.value("namespaces", Doc::object())));
  l.add("Cgroup parent", str(p, "cgroupParent"));
  l.add("Cgroup", str(p, "cgroupPath"));
  l.add("Monitor PID", p.value("monitorPid", 0) > 0 ? str(p, "monitorPid") : "none running");
  if (p.value("pausePid", 0) > 0) l.add("Pause PID", str(p, "pausePid"));
  l.add("Run dir", str(p, "runDir"));
  return l.text();
}

std::string images_text(const Doc& list) {
  std::vector<std::vector<std::string>> rows{{"IMAGE ID", "TAGS", "SIZE", "PINNED"}};
  for (const auto& i : list) {
    const Doc tags = i.value("repoTags", Doc::array());
    rows.push_back({short_id(str(i, "id")), tags.empty() ? "<none>" : join(tags, ", "),
                    human_bytes(i.value("size", uint64_t{0})), yes_no(i.value("pinned", false))});
  }
  return table(rows);
}

}  // namespace crius::client
