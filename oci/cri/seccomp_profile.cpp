// Which seccomp profile a container gets, and reading a Localhost profile
// written in the OCI format or Docker's (with its includes/excludes).
#include <sys/utsname.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "base/file.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

using nlohmann::json;

const std::vector<std::string>& known_actions() {
  static const std::vector<std::string> v = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                             "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                             "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", "SCMP_ACT_NOTIFY"};
  return v;
}

// The native architecture under the names profiles use for it: Docker's Go
// names ("amd64") and libseccomp's ("SCMP_ARCH_X86_64").
std::vector<std::string> native_arch_names() {
  utsname u{};
  ::uname(&u);
  const std::string m = u.machine;
  if (m == "x86_64") return {"amd64", "x86_64", "SCMP_ARCH_X86_64"};
  if (m == "aarch64") return {"arm64", "aarch64", "SCMP_ARCH_AARCH64"};
  if (m == "ppc64le") return {"ppc64le", "SCMP_ARCH_PPC64LE"};
  if (m == "s390x") return {"s390x", "SCMP_ARCH_S390X"};
  if (m == "riscv64") return {"riscv64", "SCMP_ARCH_RISCV64"};
  return {m};
}

bool kernel_at_least(const std::string& v) {
  utsname u{};
  if (::uname(&u) != 0) return true;
  int a = 0, b = 0, x = 0, y = 0;
  if (std::sscanf(v.c_str(), "%d.%d", &a, &b) < 1) return true;
  std::sscanf(u.release, "%d.%d", &x, &y);
  return x > a || (x == a && y >= b);
}

std::vector<std::string> strings(const json& j, const std::string& field) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw InvalidArgument(field + ": must be a list of strings");
  for (const auto& e : j) {
    if (!e.is_string()) throw InvalidArgument(field + ": must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

bool any_in(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return std::find(b.begin(), b.end(), x) != b.end(); });
}

std::vector<std::string> normalized_caps(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(cap_name(n).value_or(n));
  return out;
}

std::string read_profile(const std::string& path, const Defaults& d, const std::string& field) {
  std::string full = path;
  if (full.empty()) throw InvalidArgument(field + ": Localhost profile without a path");
  if (full[0] != '/') {
    if (d.seccomp_profile_root.empty())
      throw InvalidArgument(field + ": profile path \"" + path + "\" must be absolute");
    full = (std::filesystem::path(d.seccomp_profile_root) / path).string();
  }
  try {
    return read_file(full);
  } catch (const crius::Error& e) {
    // A profile that cannot be read is the request's fault, whatever the errno.
    throw InvalidArgument(field + ": " + e.what());
  }
}

json load(const std::string& path, const Defaults& d, const std::vector<std::string>& caps, const std::string& field) {
  const std::string text = read_profile(path, d, field);
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw InvalidArgument(field + ": seccomp profile " + path + " is not valid JSON");
  return seccomp_from_profile(doc, caps, path);
}

// An unsigned integer field of `o` (0 when absent), at most `max`; a float,
// a negative or a larger number is refused, never cast.
uint64_t unsigned_field(const json& o, const char* key, uint64_t max, const std::string& field) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return 0;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0))
    throw InvalidArgument(field + "." + key + ": must be a non-negative integer");
  const uint64_t v = it->get<uint64_t>();
  if (v > max) throw InvalidArgument(field + "." + key + ": must be at most " + std::to_string(max));
  return v;
}

json convert_profile(const json& p, const std::vector<std::string>& caps_in, const std::string& where);

}  // namespace

json seccomp_from_profile(const json& p, const std::vector<std::string>& caps_in, const std::string& source) {
  const std::string where = "seccomp profile " + source;
  if (!p.is_object()) throw InvalidArgument(where + ": must be a JSON object");
  // A field of the wrong type anywhere is the profile's fault.
  try {
    return convert_profile(p, caps_in, where);
  } catch (const json::exception& e) {
    throw InvalidArgument(where + ": " + e.what());
  }
}

namespace {

json convert_profile(const json& p, const std::vector<std::string>& caps_in, const std::string& where) {
  const auto caps = normalized_caps(caps_in);
  const auto native = native_arch_names();
  auto action = [&](const json& a, const std::string& field) {
    if (!a.is_string()) throw InvalidArgument(where + ": " + field + ": must be a string");
    const std::string s = a.get<std::string>();
    if (std::find(known_actions().begin(), known_actions().end(), s) == known_actions().end())
      throw InvalidArgument(where + ": " + field + ": unknown action \"" + s + "\"");
    return s;
  };

  json out = json::object();
  out["defaultAction"] = action(p.value("defaultAction", json()), "defaultAction");
  if (p.contains("defaultErrnoRet")) out["defaultErrnoRet"] = p["defaultErrnoRet"];

  // Architectures: Docker's archMap lists each native arch with its compat
  // ones; keep the entry for this machine.
  std::vector<std::string> arches;
  if (p.contains("archMap") && p["archMap"].is_array()) {
    for (const auto& m : p["archMap"]) {
      if (!m.is_object()) throw InvalidArgument(where + ": archMap: entries must be objects");
      const std::string a = m.value("architecture", "");
      if (std::find(native.begin(), native.end(), a) == native.end()) continue;
      arches.push_back(a);
      for (auto& s : strings(m.value("subArchitectures", json()), "archMap.subArchitectures")) arches.push_back(s);
    }
  }
  if (arches.empty()) arches = strings(p.value("architectures", json()), where + ": architectures");
  if (arches.empty()) arches = native_seccomp_arches();
  out["architectures"] = arches;
  if (p.contains("flags")) out["flags"] = strings(p["flags"], where + ": flags");
  if (p.contains("listenerPath")) out["listenerPath"] = p["listenerPath"];
  if (p.contains("listenerMetadata")) out["listenerMetadata"] = p["listenerMetadata"];

  json syscalls = json::array();
  const json sc = p.value("syscalls", json::array());
  if (!sc.is_array()) throw InvalidArgument(where + ": syscalls: must be a list");
  for (size_t i = 0; i < sc.size(); ++i) {
    const json& s = sc[i];
    const std::string field = "syscalls[" + std::to_string(i) + "]";
    if (!s.is_object()) throw InvalidArgument(where + ": " + field + ": must be an object");
    // Docker's conditions: every included cap held, an included arch native,
    // no excluded cap held, no excluded arch native, a recent enough kernel.
    for (const char* cond : {"includes", "excludes"})
      if (s.contains(cond) && !s[cond].is_object())
        throw InvalidArgument(where + ": " + field + "." + cond + ": must be an object");
    if (s.contains("includes")) {
      const json& inc = s["includes"];
      auto need = normalized_caps(strings(inc.value("caps", json()), where + ": " + field + ".includes.caps"));
      if (!std::all_of(need.begin(), need.end(),
                       [&](const std::string& c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); }))
        continue;
      auto ar = strings(inc.value("arches", json()), where + ": " + field + ".includes.arches");
      if (!ar.empty() && !any_in(ar, native)) continue;
      if (inc.contains("minKernel") && inc["minKernel"].is_string() && !kernel_at_least(inc["minKernel"])) continue;
    }
    if (s.contains("excludes")) {
      const json& exc = s["excludes"];
      auto c = normalized_caps(strings(exc.value("caps", json()), where + ": " + field + ".excludes.caps"));
      if (any_in(c, caps)) continue;
      auto ar = strings(exc.value("arches", json()), where + ": " + field + ".excludes.arches");
      if (any_in(ar, native)) continue;
    }
    std::vector<std::string> names = strings(s.value("names", json()), where + ": " + field + ".names");
    if (s.contains("name")) {
      if (!s["name"].is_string()) throw InvalidArgument(where + ": " + field + ".name: must be a string");
      names.push_back(s["name"].get<std::string>());
    }
    if (names.empty()) throw InvalidArgument(where + ": " + field + ": names no syscall");
    json r = {{"names", names}, {"action", action(s.value("action", json()), field + ".action")}};
    if (s.contains("errnoRet")) r["errnoRet"] = s["errnoRet"];
    if (s.contains("args") && !s["args"].is_null()) {
      if (!s["args"].is_array()) throw InvalidArgument(where + ": " + field + ".args: must be a list");
      json args = json::array();
      for (const auto& a : s["args"]) {
        const std::string af = where + ": " + field + ".args";
        if (!a.is_object()) throw InvalidArgument(af + ": entries must be objects");
        args.push_back({{"index", unsigned_field(a, "index", 5, af)},  // a syscall has six arguments
                        {"value", unsigned_field(a, "value", UINT64_MAX, af)},
                        {"valueTwo", unsigned_field(a, "valueTwo", UINT64_MAX, af)},
                        {"op", a.value("op", "")}});
      }
      if (!args.empty()) r["args"] = args;
    }
    syscalls.push_back(r);
  }
  out["syscalls"] = syscalls;
  return out;
}

}  // namespace

json seccomp_for(const ::runtime::v1::LinuxContainerSecurityContext& sc, const Defaults& d,
                 const std::vector<std::string>& caps, bool privileged) {
  // A privileged container runs unconfined whatever profile it names, as
  // with containerd and cri-o (and Kubernetes' privileged semantics).
  if (privileged) return nullptr;
  if (sc.has_seccomp()) {
    switch (sc.seccomp().profile_type()) {
      case ::runtime::v1::SecurityProfile::Unconfined: return nullptr;
      case ::runtime::v1::SecurityProfile::Localhost:
        return load(sc.seccomp().localhost_ref(), d, caps, "seccomp.localhost_ref");
      default: return default_seccomp(caps);
    }
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // The deprecated string form, still sent by older kubelets.
  const std::string& p = sc.seccomp_profile_path();
#pragma GCC diagnostic pop
  if (p.empty() || p == "unconfined") return nullptr;
  if (p == "runtime/default" || p == "docker/default") return default_seccomp(caps);
  if (p.starts_with("localhost/")) return load(p.substr(10), d, caps, "seccomp_profile_path");
  throw InvalidArgument("seccomp_profile_path \"" + p +
                        "\": expected runtime/default, docker/default, unconfined or localhost/<path>");
}

}  // namespace crius::oci::cri::detail
