#include "oci/cgroups/path.h"

#include <vector>

#include "base/error.h"
#include "oci/cgroups/systemd.h"

namespace crius::oci::cgroups {
namespace {

std::string join(const std::string& a, const std::string& b) {
  if (b.empty() || b == "/") return a;
  if (a.empty()) return b;
  if (a.back() == '/') return a + (b[0] == '/' ? b.substr(1) : b);
  return a + (b[0] == '/' ? b : "/" + b);
}

std::string parent_of(const std::string& p) {
  auto pos = p.find_last_of('/');
  if (pos == std::string::npos || pos == 0) return "/";
  return p.substr(0, pos);
}

}  // namespace

std::string clean_path(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out = !p.empty() && p[0] == '/' ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + parts[k];
  return out;
}

std::string expand_slice(const std::string& slice) {
  const std::string suffix = ".slice";
  auto bad = [&](const std::string& why) {
    return InvalidArgument("linux.cgroupsPath: invalid systemd slice \"" + slice + "\": " + why);
  };
  if (!slice.ends_with(suffix)) throw bad("it must end in .slice");
  if (slice.find('/') != std::string::npos) throw bad("it must not contain '/'");
  const std::string name = slice.substr(0, slice.size() - suffix.size());
  if (name == "-") return "/";
  std::string path, prefix;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('-', i);
    if (j == std::string::npos) j = name.size();
    const std::string comp = name.substr(i, j - i);
    if (comp.empty()) throw bad("empty component (leading, trailing or double '-')");
    prefix += (prefix.empty() ? "" : "-") + comp;
    path += "/" + prefix + suffix;
    i = j + 1;
  }
  return path;
}

std::string systemd_path(const std::string& spec) {
  const systemd::UnitName u = systemd::parse_unit_spec(spec);
  const std::string base = expand_slice(u.slice);
  // A slice unit nests under its own prefix slices, not under the first part.
  if (u.is_slice()) return expand_slice(u.unit);
  return (base == "/" ? "" : base) + "/" + u.unit;
}

std::string container_cgroup_path(const std::string& cgroups_path, bool systemd, const std::string& id) {
  if (systemd) return systemd_path(systemd::spec_or_default(cgroups_path, id));
  if (cgroups_path.empty()) return clean_path(id);
  std::string p = clean_path(cgroups_path);
  if (p.empty() || p == "/") throw InvalidArgument("linux.cgroupsPath: \"" + cgroups_path + "\" names a hierarchy's root");
  return p;
}

Paths resolve(const Hierarchy& h, const std::string& path, const std::map<std::string, std::string>& own) {
  Paths out;
  out.mode = h.mode;
  const bool absolute = !path.empty() && path[0] == '/';
  auto own_of = [&](const std::string& key) {
    auto it = own.find(key);
    return it == own.end() ? std::string("/") : it->second;
  };
  if (!h.unified.empty()) {
    std::string base = absolute ? "/" : parent_of(own_of(""));
    out.unified = join(h.unified, join(base, path));
  }
  if (h.mode != Mode::v2) {
    for (const auto& [ctrl, mp] : h.v1) {
      std::string base = absolute ? "/" : own_of(ctrl);
      out.v1[ctrl] = join(mp, join(base, path));
    }
  }
  return out;
}

Paths resolve_here(const std::string& path) {
  return resolve(Hierarchy::host(), path, proc_cgroup_paths());
}

nlohmann::json Paths::to_json() const {
  nlohmann::json j = {{"mode", mode_name(mode)}};
  if (!unified.empty()) j["unified"] = unified;
  if (!v1.empty()) j["v1"] = v1;
  return j;
}

Paths Paths::from_json(const nlohmann::json& j) {
  Paths p;
  if (!j.is_object()) return p;
  const std::string m = j.value("mode", "v2");
  p.mode = m == "v1" ? Mode::v1 : m == "hybrid" ? Mode::hybrid : Mode::v2;
  p.unified = j.value("unified", "");
  if (j.contains("v1")) p.v1 = j["v1"].get<std::map<std::string, std::string>>();
  return p;
}

}  // namespace crius::oci::cgroups
