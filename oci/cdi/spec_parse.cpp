// Reading a CDI spec file into the model, strictly: an unknown field, a
// value of the wrong type, a bad name or path, or a field newer than the
// declared cdiVersion is an error naming the field. Field names match as
// the reference implementation's decoder matches them, without regard to
// case ("additionalGIDs" and "additionalGids" are the same field), and a
// null value counts as absent.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "oci/cdi/names.h"
#include "oci/cdi/spec.h"

namespace crius::oci::cdi {
namespace {

using nlohmann::json;

// YAML as a JSON tree. Every scalar stays text (a plain `~` or `null` is
// null): the reader converts it when the field wants a number or a boolean,
// so that `name: 0` is the name "0" and `fileMode: 0666` the number 438.
json from_yaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "?" && (s == "~" || s == "null" || s == "Null" || s == "NULL")) return nullptr;
      return s;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(from_yaml(item));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = from_yaml(kv.second);
      return o;
    }
    default: return nullptr;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A YAML integer: decimal, 0x hex, 0o or leading-0 octal, with a sign.
std::optional<int64_t> yaml_integer(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0X")) base = 16, s.remove_prefix(2);
  else if (s.starts_with("0o")) base = 8, s.remove_prefix(2);
  else if (s.size() > 1 && s[0] == '0') base = 8, s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

// A value in the document and where it is, for error messages.
class Field {
 public:
  Field(const json& v, std::string path, bool yaml) : v_(v), path_(std::move(path)), yaml_(yaml) {}

  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& why) const {
    throw InvalidArgument(path_.empty() ? why : path_ + ": " + why);
  }

  std::string text() const {
    if (!v_.is_string()) fail("expected a string, got " + v_.dump());
    return v_.get<std::string>();
  }

  int64_t integer(int64_t min, int64_t max) const {
    std::optional<int64_t> n;
    if (v_.is_number_integer()) n = v_.get<int64_t>();
    else if (yaml_ && v_.is_string()) n = yaml_integer(v_.get_ref<const std::string&>());
    if (!n) fail("expected an integer, got " + v_.dump());
    if (*n < min || *n > max)
      fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::to_string(*n));
    return *n;
  }

  bool boolean() const {
    if (v_.is_boolean()) return v_.get<bool>();
    if (yaml_ && v_.is_string()) {
      const std::string s = lower(v_.get_ref<const std::string&>());
      if (s == "true" || s == "false") return s == "true";
    }
    fail("expected true or false, got " + v_.dump());
  }

  template <class F>
  void each(F f) const {
    if (!v_.is_array()) fail("expected a list, got " + v_.dump());
    for (std::size_t i = 0; i < v_.size(); ++i) f(Field(v_[i], path_ + "[" + std::to_string(i) + "]", yaml_));
  }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    each([&](const Field& f) { out.push_back(f.text()); });
    return out;
  }

  std::map<std::string, std::string> text_map() const {
    if (!v_.is_object()) fail("expected a mapping of strings, got " + v_.dump());
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : v_.items()) out[k] = Field(v, path_ + "." + k, yaml_).text();
    return out;
  }

  // Calls f(lower-case key, value) for each field that is not null; f
  // returns false for a field it does not know.
  template <class F>
  void fields(F f) const {
    if (!v_.is_object()) fail("expected a mapping, got " + v_.dump());
    for (const auto& [k, v] : v_.items()) {
      if (v.is_null()) continue;
      if (!f(lower(k), Field(v, path_.empty() ? k : path_ + "." + k, yaml_)))
        Field(v, path_.empty() ? k : path_ + "." + k, yaml_).fail("unknown field");
    }
  }

 private:
  const json& v_;
  std::string path_;
  bool yaml_;
};

void check_env(const std::vector<std::string>& env, const Field& f) {
  for (const auto& e : env)
    if (e.find('=') == std::string::npos || e.front() == '=')
      f.fail("\"" + e + "\" is not of the form NAME=VALUE");
}

DeviceNode device_node(const Field& f) {
  DeviceNode d;
  f.fields([&](const std::string& k, const Field& v) {
    if (k == "path") d.path = v.text();
    else if (k == "hostpath") d.host_path = v.text();
    else if (k == "type") d.type = v.text();
    else if (k == "major") d.major = v.integer(0, UINT32_MAX);
    else if (k == "minor") d.minor = v.integer(0, UINT32_MAX);
    else if (k == "filemode") d.file_mode = static_cast<uint32_t>(v.integer(0, UINT32_MAX));
    else if (k == "permissions") d.permissions = v.text();
    else if (k == "uid") d.uid = static_cast<uint32_t>(v.integer(0, UINT32_MAX));
    else if (k == "gid") d.gid = static_cast<uint32_t>(v.integer(0, UINT32_MAX));
    else return false;
    return true;
  });
  if (!d.path.starts_with('/')) f.fail("path \"" + d.path + "\" must be an absolute path in the container");
  if (!d.host_path.empty() && !d.host_path.starts_with('/'))
    f.fail("hostPath \"" + d.host_path + "\" must be an absolute path");
  if (d.type != "" && d.type != "b" && d.type != "c" && d.type != "u" && d.type != "p")
    f.fail("type \"" + d.type + "\" must be b, c, u or p");
  if (d.permissions.find_first_not_of("rwm") != std::string::npos)
    f.fail("permissions \"" + d.permissions + "\" may only have r, w and m");
  return d;
}

Mount mount(const Field& f) {
  Mount m;
  f.fields([&](const std::string& k, const Field& v) {
    if (k == "hostpath") m.host_path = v.text();
    else if (k == "containerpath") m.container_path = v.text();
    else if (k == "type") m.type = v.text();
    else if (k == "options") m.options = v.texts();
    else return false;
    return true;
  });
  if (m.host_path.empty()) f.fail("hostPath is required");
  if (m.container_path.empty()) f.fail("containerPath is required");
  return m;
}

Hook hook(const Field& f) {
  static const std::set<std::string> kinds = {"prestart",       "createRuntime", "createContainer",
                                              "startContainer", "poststart",     "poststop"};
  Hook h;
  f.fields([&](const std::string& k, const Field& v) {
    if (k == "hookname") h.hook_name = v.text();
    else if (k == "path") h.path = v.text();
    else if (k == "args") h.args = v.texts();
    else if (k == "env") h.env = v.texts();
    else if (k == "timeout") h.timeout = static_cast<int>(v.integer(1, INT32_MAX));
    else return false;
    return true;
  });
  if (!kinds.contains(h.hook_name))
    f.fail("hookName \"" + h.hook_name +
           "\" is not an OCI hook (prestart, createRuntime, createContainer, startContainer, poststart, poststop)");
  if (!h.path.starts_with('/')) f.fail("path \"" + h.path + "\" must be an absolute path");
  check_env(h.env, f);
  return h;
}

IntelRdt intel_rdt(const Field& f) {
  IntelRdt r;
  f.fields([&](const std::string& k, const Field& v) {
    if (k == "closid") r.clos_id = v.text();
    else if (k == "l3cacheschema") r.l3_cache_schema = v.text();
    else if (k == "membwschema") r.mem_bw_schema = v.text();
    else if (k == "enablecmt") r.enable_cmt = v.boolean();
    else if (k == "enablembm") r.enable_mbm = v.boolean();
    else return false;
    return true;
  });
  // The CLOS is a directory of resctrl: a file name.
  if (r.clos_id.size() >= 4096 || r.clos_id == "." || r.clos_id == ".." ||
      r.clos_id.find_first_of("/\n") != std::string::npos)
    f.fail("closID \"" + r.clos_id + "\" is not a valid resctrl group name");
  return r;
}

ContainerEdits edits(const Field& f) {
  ContainerEdits e;
  f.fields([&](const std::string& k, const Field& v) {
    if (k == "env") {
      e.env = v.texts();
      check_env(e.env, v);
    } else if (k == "devicenodes") {
      v.each([&](const Field& d) { e.device_nodes.push_back(device_node(d)); });
    } else if (k == "mounts") {
      v.each([&](const Field& m) { e.mounts.push_back(mount(m)); });
    } else if (k == "hooks") {
      v.each([&](const Field& h) { e.hooks.push_back(hook(h)); });
    } else if (k == "intelrdt") {
      e.intel_rdt = intel_rdt(v);
    } else if (k == "additionalgids") {
      v.each([&](const Field& g) { e.additional_gids.push_back(static_cast<uint32_t>(g.integer(0, UINT32_MAX))); });
    } else {
      return false;
    }
    return true;
  });
  return e;
}

Device device(const Field& f) {
  Device d;
  f.fields([&](const std::string& k, const Field& v) {
    if (k == "name") d.name = v.text();
    else if (k == "annotations") d.annotations = v.text_map();
    else if (k == "containeredits") d.edits = edits(v);
    else return false;
    return true;
  });
  if (auto problem = device_name_problem(d.name)) f.fail(*problem);
  if (d.edits.empty()) f.fail("device \"" + d.name + "\" has no containerEdits");
  return d;
}

std::vector<int> version_parts(const std::string& v) {
  std::vector<int> parts;
  for (std::string_view rest = v; !rest.empty();) {
    std::size_t dot = rest.find('.');
    int n = 0;
    std::from_chars(rest.data(), rest.data() + std::min(dot, rest.size()), n);
    parts.push_back(n);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  return parts;
}

// The newest feature a spec uses: its version and what it is.
struct Requirement {
  std::string version, why;
};

Requirement requirement(const Spec& s) {
  std::vector<const ContainerEdits*> all = {&s.edits};
  for (const auto& d : s.devices) all.push_back(&d.edits);
  auto any_edit = [&](auto pred) { return std::any_of(all.begin(), all.end(), [&](const auto* e) { return pred(*e); }); };
  auto any_device = [&](auto pred) { return std::any_of(s.devices.begin(), s.devices.end(), pred); };

  if (any_edit([](const ContainerEdits& e) { return e.intel_rdt.has_value(); })) return {"0.7.0", "intelRdt"};
  if (any_edit([](const ContainerEdits& e) { return !e.additional_gids.empty(); })) return {"0.7.0", "additionalGids"};
  if (!s.annotations.empty() || any_device([](const Device& d) { return !d.annotations.empty(); }))
    return {"0.6.0", "annotations"};
  if (s.device_class.find('.') != std::string::npos) return {"0.6.0", "a '.' in the class of kind " + s.kind};
  if (any_device([](const Device& d) { return !d.name.empty() && !std::isalpha(static_cast<unsigned char>(d.name[0])); }))
    return {"0.5.0", "a device name that does not start with a letter"};
  if (any_edit([](const ContainerEdits& e) {
        return std::any_of(e.device_nodes.begin(), e.device_nodes.end(),
                           [](const DeviceNode& n) { return !n.host_path.empty(); });
      }))
    return {"0.5.0", "a device node hostPath"};
  if (any_edit([](const ContainerEdits& e) {
        return std::any_of(e.mounts.begin(), e.mounts.end(), [](const Mount& m) { return !m.type.empty(); });
      }))
    return {"0.4.0", "a mount type"};
  return {supported_versions().front(), ""};
}

}  // namespace

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> versions = {"0.3.0", "0.4.0", "0.5.0", "0.6.0",
                                                    "0.7.0", "0.8.0", "1.0.0"};
  return versions;
}

std::string minimum_version(const Spec& spec) { return requirement(spec).version; }

Spec parse_spec(std::string_view text, bool yaml) {
  json doc;
  if (yaml) {
    try {
      doc = from_yaml(YAML::Load(std::string(text)));
    } catch (const YAML::Exception& e) {
      throw InvalidArgument(std::string("not valid YAML: ") + e.what());
    }
  } else {
    doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) throw InvalidArgument("not valid JSON");
  }
  const Field top(doc, "", yaml);
  Spec s;
  bool has_devices = false;
  top.fields([&](const std::string& k, const Field& v) {
    if (k == "cdiversion") s.version = v.text();
    else if (k == "kind") s.kind = v.text();
    else if (k == "annotations") s.annotations = v.text_map();
    else if (k == "devices") has_devices = true, v.each([&](const Field& d) { s.devices.push_back(device(d)); });
    else if (k == "containeredits") s.edits = edits(v);
    else return false;
    return true;
  });
  const auto& versions = supported_versions();
  if (s.version.empty()) top.fail("cdiVersion is required");
  if (std::find(versions.begin(), versions.end(), s.version) == versions.end()) {
    std::string list;
    for (const auto& v : versions) list += (list.empty() ? "" : ", ") + v;
    top.fail("cdiVersion \"" + s.version + "\" is not supported (supported: " + list + ")");
  }
  if (s.kind.empty()) top.fail("kind is required");
  const QualifiedName kind = parse_kind(s.kind);
  s.vendor = kind.vendor;
  s.device_class = kind.device_class;
  if (!has_devices || s.devices.empty()) top.fail("devices: at least one device is required");
  std::set<std::string> names;
  for (const auto& d : s.devices)
    if (!names.insert(d.name).second) top.fail("devices: device \"" + d.name + "\" is defined twice");
  if (const Requirement r = requirement(s); version_parts(r.version) > version_parts(s.version))
    top.fail("uses " + r.why + ", which needs cdiVersion " + r.version + " or later, but declares " + s.version);
  return s;
}

Spec read_spec(const std::string& path) {
  const bool yaml = path.ends_with(".yaml");
  if (!yaml && !path.ends_with(".json")) throw InvalidArgument("not a .json or .yaml file");
  Spec s = parse_spec(read_file(path), yaml);
  s.path = path;
  return s;
}

}  // namespace crius::oci::cdi
