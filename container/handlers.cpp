#include "container/handlers.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/log.h"
#include "base/process.h"
#include "base/strings.h"
#include "base/user_namespace.h"

namespace crius::container {

namespace {

// A bare name is looked up in PATH, as a shell would.
std::string find_binary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// What a runc-compatible binary supports, from `<binary> features` (the OCI
// features document), read once per binary.
struct BinaryFeatures {
  bool rro = false;  // the mount options it knows include "rro"
  // User namespaces for pods: it makes user namespaces and idmapped mounts
  // (linux.mountExtensions.idmap.enabled), which every bind mount of such a
  // pod is (oci/cri/mounts.cpp).
  bool userns = false;
};

BinaryFeatures binary_features(const std::string& binary) {
  static std::mutex mu;
  static std::map<std::string, BinaryFeatures> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(binary); it != cache.end()) return it->second;
  BinaryFeatures f;
  try {
    ProcessResult r = run_process({binary, "features"}, {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, "",
                                  std::chrono::seconds(5));
    if (r.exit_code == 0) {
      const auto doc = nlohmann::json::parse(r.out);
      for (const auto& o : doc.value("mountOptions", nlohmann::json::array()))
        if (o == "rro") f.rro = true;
      const auto linux = doc.value("linux", nlohmann::json::object());
      bool user = false;
      for (const auto& n : linux.value("namespaces", nlohmann::json::array())) user |= n == "user";
      const auto idmap = linux.value("mountExtensions", nlohmann::json::object()).value("idmap", nlohmann::json::object());
      f.userns = user && idmap.value("enabled", false);
    }
  } catch (const std::exception& e) {
    log::warn("could not read the features of an OCI runtime", {{"binary", binary}, {"error", e.what()}});
  }
  cache[binary] = f;
  return f;
}

oci::monitor::Handler resolve(const std::string& n, const conf::Handler& def, const conf::Config& conf,
                              const std::string& runtime_state) {
  oci::monitor::Handler h;
  h.name = n;
  h.systemd_cgroup = conf.cgroup_driver == "systemd";
  h.root = runtime_state + "/" + n;
  if (def.type == "builtin") return h;
  h.binary = find_binary(def.path);
  if (h.binary.empty() || ::access(h.binary.c_str(), X_OK) != 0)
    throw FailedPrecondition("runtime handler \"" + n + "\": OCI runtime binary \"" + def.path + "\" not found");
  return h;
}

}  // namespace

oci::monitor::Handler handler_for(const std::string& name, const conf::Config& conf, const std::string& runtime_state) {
  const std::string n = name.empty() ? conf.runtime.default_handler : name;
  auto it = conf.runtime.handlers.find(n);
  if (it == conf.runtime.handlers.end())
    throw InvalidArgument("runtime handler \"" + n + "\" is not configured (runtime.handlers)");
  return resolve(n, it->second, conf, runtime_state);
}

oci::monitor::Handler handler_for(const sandbox::Record& pod, const conf::Config& conf,
                                  const std::string& runtime_state) {
  if (pod.handler.type.empty() || pod.runtime_handler.empty())
    return handler_for(pod.runtime_handler, conf, runtime_state);
  return resolve(pod.runtime_handler, pod.handler, conf, runtime_state);
}

std::vector<HandlerFeatures> handler_features(const conf::Config& conf) {
  std::vector<HandlerFeatures> out;
  auto features_of = [&](const std::string& name) {
    HandlerFeatures f;
    f.name = name;
    auto it = conf.runtime.handlers.find(name.empty() ? conf.runtime.default_handler : name);
    if (it == conf.runtime.handlers.end()) return f;
    if (it->second.type == "builtin") {
      f.recursive_read_only_mounts = true;  // mount_setattr(MOUNT_ATTR_RDONLY, AT_RECURSIVE)
      f.user_namespaces = true;             // joined by path, idmapped binds (oci/runtime/idmap.h)
    } else if (std::string bin = find_binary(it->second.path); !bin.empty()) {
      const BinaryFeatures b = binary_features(bin);
      f.recursive_read_only_mounts = b.rro;
      f.user_namespaces = b.userns;
    }
    // Pods' own user namespaces need 65536 IDs each beyond the ones a user
    // namespace of ours maps, and idmapped layers on a filesystem it does not own.
    if (in_user_namespace()) f.user_namespaces = false;
    return f;
  };
  out.push_back(features_of(""));
  for (const auto& [name, h] : conf.runtime.handlers) out.push_back(features_of(name));
  return out;
}

void require_user_namespaces(const std::string& name, const conf::Config& conf) {
  const std::string n = name.empty() ? conf.runtime.default_handler : name;
  for (const auto& f : handler_features(conf))
    if (f.name == n && !f.user_namespaces)
      throw FailedPrecondition(
          "runtime handler \"" + n + "\" cannot run pods with a user namespace (userns_options mode POD): " +
          (in_user_namespace() ? "crius itself runs in a user namespace"
                               : "its OCI runtime does not report user namespaces and idmapped mounts in its features"));
}

}  // namespace crius::container
