#include "oci/runtime/spec.h"

#include <cerrno>
#include <fstream>
#include <limits>
#include <sstream>

#include "base/error.h"

namespace crius::oci {
namespace {

using nlohmann::json;

// A cursor on one JSON object that knows its dotted path for error messages.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, "must be an object");
  }

  [[noreturn]] static void fail(const std::string& path, const std::string& why) {
    throw InvalidArgument("config.json: " + (path.empty() ? std::string("document") : path) + ": " + why);
  }

  std::string sub(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const json* find(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::string str(const char* key, std::string dflt = {}) const {
    const json* v = find(key);
    if (!v) return dflt;
    if (!v->is_string()) fail(sub(key), "must be a string");
    return v->get<std::string>();
  }
  bool boolean(const char* key) const {
    const json* v = find(key);
    if (!v) return false;
    if (!v->is_boolean()) fail(sub(key), "must be a boolean");
    return v->get<bool>();
  }
  template <typename T>
  std::optional<T> num(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return as_num<T>(*v, sub(key));
  }
  template <typename T>
  static T as_num(const json& v, const std::string& path) {
    if (!v.is_number_integer()) fail(path, "must be an integer");
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) fail(path, "out of range");
      return static_cast<T>(u);
    }
    auto s = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (s < 0) fail(path, "must not be negative");
      if (static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max())) fail(path, "out of range");
    } else {
      if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          s > static_cast<int64_t>(std::numeric_limits<T>::max()))
        fail(path, "out of range");
    }
    return static_cast<T>(s);
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    const json* v = find(key);
    if (!v) return out;
    if (!v->is_array()) fail(sub(key), "must be an array of strings");
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) fail(sub(key) + "[" + std::to_string(i) + "]", "must be a string");
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }
  std::map<std::string, std::string> string_map(const char* key) const {
    std::map<std::string, std::string> out;
    const json* v = find(key);
    if (!v) return out;
    if (!v->is_object()) fail(sub(key), "must be an object of strings");
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it->is_string()) fail(sub(key) + "." + it.key(), "must be a string");
      out[it.key()] = it->get<std::string>();
    }
    return out;
  }
  // Calls f(Obj) for each element of an array of objects.
  template <typename F>
  void each(const char* key, F f) const {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_array()) fail(sub(key), "must be an array");
    for (size_t i = 0; i < v->size(); ++i) f(Obj((*v)[i], sub(key) + "[" + std::to_string(i) + "]"));
  }
  std::optional<Obj> object(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return Obj(*v, sub(key));
  }
  const std::string& path() const { return path_; }
  const json& raw() const { return j_; }

 private:
  const json& j_;
  std::string path_;
};

Hook parse_hook(const Obj& o) {
  Hook h;
  h.path = o.str("path");
  if (h.path.empty()) Obj::fail(o.sub("path"), "is required");
  if (h.path[0] != '/') Obj::fail(o.sub("path"), "must be absolute");
  h.args = o.strings("args");
  h.env = o.strings("env");
  h.timeout = o.num<int>("timeout");
  if (h.timeout && *h.timeout <= 0) Obj::fail(o.sub("timeout"), "must be greater than zero");
  return h;
}

Process parse_process(const Obj& o) {
  Process p;
  p.terminal = o.boolean("terminal");
  if (auto cs = o.object("consoleSize"))
    p.console_size = ConsoleSize{cs->num<unsigned>("height").value_or(0), cs->num<unsigned>("width").value_or(0)};
  if (auto u = o.object("user")) {
    p.user.uid = u->num<uint32_t>("uid").value_or(0);
    p.user.gid = u->num<uint32_t>("gid").value_or(0);
    p.user.umask = u->num<uint32_t>("umask");
    if (const json* g = u->find("additionalGids")) {
      if (!g->is_array()) Obj::fail(u->sub("additionalGids"), "must be an array");
      for (size_t i = 0; i < g->size(); ++i)
        p.user.additional_gids.push_back(
            Obj::as_num<uint32_t>((*g)[i], u->sub("additionalGids") + "[" + std::to_string(i) + "]"));
    }
  }
  p.args = o.strings("args");
  p.env = o.strings("env");
  p.cwd = o.str("cwd");
  if (p.cwd.empty()) Obj::fail(o.sub("cwd"), "is required");
  if (p.cwd[0] != '/') Obj::fail(o.sub("cwd"), "must be absolute");
  if (auto c = o.object("capabilities")) {
    Capabilities caps;
    caps.bounding = c->strings("bounding");
    caps.effective = c->strings("effective");
    caps.inheritable = c->strings("inheritable");
    caps.permitted = c->strings("permitted");
    caps.ambient = c->strings("ambient");
    p.capabilities = caps;
  }
  o.each("rlimits", [&](const Obj& r) {
    Rlimit l;
    l.type = r.str("type");
    if (l.type.empty()) Obj::fail(r.sub("type"), "is required");
    l.hard = r.num<uint64_t>("hard").value_or(0);
    l.soft = r.num<uint64_t>("soft").value_or(0);
    p.rlimits.push_back(l);
  });
  p.no_new_privileges = o.boolean("noNewPrivileges");
  p.apparmor_profile = o.str("apparmorProfile");
  p.oom_score_adj = o.num<int>("oomScoreAdj");
  p.selinux_label = o.str("selinuxLabel");
  return p;
}

std::vector<IdMapping> parse_mappings(const Obj& o, const char* key) {
  std::vector<IdMapping> out;
  o.each(key, [&](const Obj& m) {
    IdMapping id;
    id.container_id = m.num<uint32_t>("containerID").value_or(0);
    id.host_id = m.num<uint32_t>("hostID").value_or(0);
    id.size = m.num<uint32_t>("size").value_or(0);
    if (id.size == 0) Obj::fail(m.sub("size"), "must be greater than zero");
    out.push_back(id);
  });
  return out;
}

Seccomp parse_seccomp(const Obj& o) {
  Seccomp s;
  s.default_action = o.str("defaultAction");
  if (s.default_action.empty()) Obj::fail(o.sub("defaultAction"), "is required");
  s.default_errno_ret = o.num<uint32_t>("defaultErrnoRet");
  s.architectures = o.strings("architectures");
  s.flags = o.strings("flags");
  s.listener_path = o.str("listenerPath");
  s.listener_metadata = o.str("listenerMetadata");
  o.each("syscalls", [&](const Obj& c) {
    SeccompSyscall sc;
    sc.names = c.strings("names");
    if (sc.names.empty()) Obj::fail(c.sub("names"), "must name at least one syscall");
    sc.action = c.str("action");
    if (sc.action.empty()) Obj::fail(c.sub("action"), "is required");
    sc.errno_ret = c.num<uint32_t>("errnoRet");
    c.each("args", [&](const Obj& a) {
      SeccompArg arg;
      arg.index = a.num<unsigned>("index").value_or(0);
      if (arg.index > 5) Obj::fail(a.sub("index"), "must be between 0 and 5");
      arg.value = a.num<uint64_t>("value").value_or(0);
      arg.value_two = a.num<uint64_t>("valueTwo").value_or(0);
      arg.op = a.str("op");
      if (arg.op.empty()) Obj::fail(a.sub("op"), "is required");
      sc.args.push_back(arg);
    });
    s.syscalls.push_back(sc);
  });
  return s;
}

Linux parse_linux(const Obj& o) {
  Linux l;
  static const char* kTypes[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
  o.each("namespaces", [&](const Obj& n) {
    Namespace ns;
    ns.type = n.str("type");
    bool known = false;
    for (const char* t : kTypes) known |= ns.type == t;
    if (!known) Obj::fail(n.sub("type"), "unknown namespace type \"" + ns.type + "\"");
    for (const auto& prev : l.namespaces)
      if (prev.type == ns.type) Obj::fail(n.sub("type"), "namespace \"" + ns.type + "\" listed twice");
    ns.path = n.str("path");
    if (!ns.path.empty() && ns.path[0] != '/') Obj::fail(n.sub("path"), "must be absolute");
    l.namespaces.push_back(ns);
  });
  l.uid_mappings = parse_mappings(o, "uidMappings");
  l.gid_mappings = parse_mappings(o, "gidMappings");
  l.sysctl = o.string_map("sysctl");
  o.each("devices", [&](const Obj& d) {
    Device dev;
    dev.type = d.str("type");
    if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p")
      Obj::fail(d.sub("type"), "must be one of c, b, u, p");
    dev.path = d.str("path");
    if (dev.path.empty() || dev.path[0] != '/') Obj::fail(d.sub("path"), "must be an absolute path");
    dev.major = d.num<int64_t>("major").value_or(0);
    dev.minor = d.num<int64_t>("minor").value_or(0);
    dev.file_mode = d.num<uint32_t>("fileMode");
    dev.uid = d.num<uint32_t>("uid");
    dev.gid = d.num<uint32_t>("gid");
    l.devices.push_back(dev);
  });
  l.rootfs_propagation = o.str("rootfsPropagation");
  if (!l.rootfs_propagation.empty()) {
    static const char* kProp[] = {"private", "shared", "slave", "unbindable",
                                  "rprivate", "rshared", "rslave", "runbindable"};
    bool ok = false;
    for (const char* p : kProp) ok |= l.rootfs_propagation == p;
    if (!ok) Obj::fail(o.sub("rootfsPropagation"), "unknown propagation \"" + l.rootfs_propagation + "\"");
  }
  l.masked_paths = o.strings("maskedPaths");
  l.readonly_paths = o.strings("readonlyPaths");
  if (auto s = o.object("seccomp")) l.seccomp = parse_seccomp(*s);
  if (auto t = o.object("timeOffsets")) {
    for (auto it = t->raw().begin(); it != t->raw().end(); ++it) {
      if (it.key() != "monotonic" && it.key() != "boottime")
        Obj::fail(t->sub(it.key().c_str()), "unknown clock (monotonic or boottime)");
      Obj off(*it, t->sub(it.key().c_str()));
      l.time_offsets[it.key()] = TimeOffset{off.num<int64_t>("secs").value_or(0), off.num<uint32_t>("nanosecs").value_or(0)};
    }
  }
  l.mount_label = o.str("mountLabel");
  l.cgroups_path = o.str("cgroupsPath");
  if (const json* r = o.find("resources")) l.resources = *r;
  return l;
}

}  // namespace

Spec parse_spec(const json& doc) {
  Obj o(doc, "");
  Spec s;
  s.raw = doc;
  s.oci_version = o.str("ociVersion");
  if (s.oci_version.empty()) Obj::fail("ociVersion", "is required");
  if (auto p = o.object("process")) s.process = parse_process(*p);
  if (auto r = o.object("root")) {
    s.root.path = r->str("path");
    s.root.readonly = r->boolean("readonly");
  }
  if (s.root.path.empty()) Obj::fail("root.path", "is required");
  s.hostname = o.str("hostname");
  s.domainname = o.str("domainname");
  o.each("mounts", [&](const Obj& m) {
    Mount mt;
    mt.destination = m.str("destination");
    if (mt.destination.empty() || mt.destination[0] != '/')
      Obj::fail(m.sub("destination"), "must be an absolute path");
    mt.type = m.str("type");
    mt.source = m.str("source");
    mt.options = m.strings("options");
    s.mounts.push_back(mt);
  });
  if (auto h = o.object("hooks")) {
    auto list = [&](const char* key, std::vector<Hook>& out) { h->each(key, [&](const Obj& x) { out.push_back(parse_hook(x)); }); };
    list("prestart", s.hooks.prestart);
    list("createRuntime", s.hooks.create_runtime);
    list("createContainer", s.hooks.create_container);
    list("startContainer", s.hooks.start_container);
    list("poststart", s.hooks.poststart);
    list("poststop", s.hooks.poststop);
  }
  s.annotations = o.string_map("annotations");
  if (auto l = o.object("linux")) s.linux_ = parse_linux(*l);
  return s;
}

Spec parse_spec_text(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("config.json: invalid JSON: ") + e.what());
  }
  return parse_spec(doc);
}

Process parse_process(const json& doc) {
  try {
    return parse_process(Obj(doc, "process"));
  } catch (const Error& e) {
    // Obj's messages speak of config.json; this object may come from elsewhere.
    const std::string prefix = "config.json: ";
    std::string msg = e.what();
    if (msg.starts_with(prefix)) msg = msg.substr(prefix.size());
    throw Error(e.code(), msg);
  }
}

Spec load_spec(const std::string& bundle) {
  const std::string path = bundle + "/config.json";
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    if (err == ENOENT) throw NotFound(errno_text("reading " + path, err));
    throw InvalidArgument(errno_text("reading " + path, err));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse_spec_text(ss.str());
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + std::string(e.what()).substr(sizeof("config.json: ") - 1));
  }
}

}  // namespace crius::oci
