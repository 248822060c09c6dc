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

// rro support of a runc-compatible binary, from `<binary> features`
// (the OCI features document lists the mount options it knows).
bool supports_rro(const std::string& binary) {
  static std::mutex mu;
  static std::map<std::string, bool> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(binary); it != cache.end()) return it->second;
  bool rro = false;
  try {
    ProcessResult r = run_process({binary, "features"}, {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, "",
                                  std::chrono::seconds(5));
    if (r.exit_code == 0) {
      auto doc = nlohmann::json::parse(r.out);
      for (const auto& o : doc.value("mountOptions", nlohmann::json::array()))
        if (o == "rro") rro = true;
    }
  } catch (const std::exception& e) {
    log::warn("could not read the features of an OCI runtime", {{"binary", binary}, {"error", e.what()}});
  }
  cache[binary] = rro;
  return rro;
}

}  // namespace

oci::monitor::Handler handler_for(const std::string& name, const conf::Config& conf, const std::string& runtime_state) {
  const std::string n = name.empty() ? conf.runtime.default_handler : name;
  auto it = conf.runtime.handlers.find(n);
  if (it == conf.runtime.handlers.end())
    throw InvalidArgument("runtime handler \"" + n + "\" is not configured (runtime.handlers)");
  oci::monitor::Handler h;
  h.name = n;
  h.systemd_cgroup = conf.cgroup_driver == "systemd";
  if (it->second.type == "builtin") {
    h.root = runtime_state + "/" + n;
    return h;
  }
  h.binary = find_binary(it->second.path);
  if (h.binary.empty() || ::access(h.binary.c_str(), X_OK) != 0)
    throw FailedPrecondition("runtime handler \"" + n + "\": OCI runtime binary \"" + it->second.path + "\" not found");
  h.root = runtime_state + "/" + n;
  return h;
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
    } else if (std::string bin = find_binary(it->second.path); !bin.empty()) {
      f.recursive_read_only_mounts = supports_rro(bin);
    }
    return f;
  };
  out.push_back(features_of(""));
  for (const auto& [name, h] : conf.runtime.handlers) out.push_back(features_of(name));
  return out;
}

}  // namespace crius::container
