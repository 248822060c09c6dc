#include "image/pull/registry_targets.h"

namespace crius::image {

std::string Target::url_base() const { return host + "/v2/" + repo; }

std::vector<Target> targets_for(const Reference& ref, const conf::ImageConfig& config) {
  const std::string name = ref.name();
  const conf::Registry* best = nullptr;
  for (const auto& r : config.registries) {
    const bool match = name == r.prefix || (name.size() > r.prefix.size() && name.starts_with(r.prefix) &&
                                           (name[r.prefix.size()] == '/' || r.prefix.back() == '/'));
    if (match && (!best || r.prefix.size() > best->prefix.size())) best = &r;
  }
  auto split = [](const std::string& full, bool insecure, bool mirror) {
    Target t;
    auto slash = full.find('/');
    t.host = full.substr(0, slash);
    t.repo = slash == std::string::npos ? "" : full.substr(slash + 1);
    while (!t.repo.empty() && t.repo.front() == '/') t.repo.erase(0, 1);
    if (t.host == "docker.io") t.host = "registry-1.docker.io";
    t.insecure = insecure;
    t.mirror = mirror;
    return t;
  };
  std::vector<Target> out;
  if (!best) {
    out.push_back(split(name, false, false));
    return out;
  }
  const std::string rest = name.substr(best->prefix.size());
  auto join = [&](const std::string& location) {
    if (rest.empty() || rest.front() == '/' || (!location.empty() && location.back() == '/')) return location + rest;
    return location + "/" + rest;
  };
  for (const auto& m : best->mirrors) out.push_back(split(join(m.location), m.insecure, true));
  out.push_back(split(join(best->location.empty() ? best->prefix : best->location), best->insecure, false));
  return out;
}

}  // namespace crius::image
