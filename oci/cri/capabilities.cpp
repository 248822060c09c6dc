// The container's capability sets: the configured default set, with the
// CRI's add/drop applied (either may say "ALL").
#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "base/file.h"
#include "base/strings.h"
#include "oci/cri/internal.h"
#include "oci/runtime/caps.h"

namespace crius::oci::cri::detail {
namespace {

bool is_all(const std::string& n) {
  std::string u = n;
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u == "ALL" || u == "CAP_ALL";
}

std::string must_cap(const std::string& name, const std::string& field) {
  auto c = cap_name(name);
  if (!c) throw InvalidArgument(field + ": unknown capability \"" + name + "\"");
  return *c;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

std::optional<std::string> cap_name(const std::string& name) {
  std::string u = name;
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // kubelet sends names without the prefix; accept both.
  if (!u.starts_with("CAP_")) u = "CAP_" + u;
  if (!runtime::capability_from_name(u)) return std::nullopt;
  return u;
}

std::vector<std::string> all_capabilities() {
  const int last = runtime::kernel_last_cap();
  // Only those in our own bounding set: a runtime started by us cannot grant
  // a capability we lack (e.g. CAP_SYS_RESOURCE when the node runs us
  // without it), and asking for one fails the container's start. containerd
  // likewise gives privileged containers the capabilities it holds.
  uint64_t held = ~0ull;
  for (const auto& line : split(read_file_or_empty("/proc/self/status"), '\n'))
    if (line.starts_with("CapBnd:")) held = std::stoull(line.substr(7), nullptr, 16);
  const auto& names = runtime::capability_names();
  std::vector<std::string> out;
  for (int i = 0; i <= last && i < static_cast<int>(names.size()); ++i)
    if (held & (1ull << i)) out.push_back(names[static_cast<size_t>(i)]);
  return out;
}

std::vector<std::string> container_capabilities(const ::runtime::v1::Capability& c, const Defaults& defaults) {
  std::vector<std::string> caps;
  const bool add_all = std::any_of(c.add_capabilities().begin(), c.add_capabilities().end(), is_all);
  const bool drop_all = std::any_of(c.drop_capabilities().begin(), c.drop_capabilities().end(), is_all);
  if (add_all) {
    caps = all_capabilities();
  } else {
    for (const auto& n : defaults.default_capabilities) add_unique(caps, must_cap(n, "runtime.default_capabilities"));
  }
  // "drop ALL, add X" is the usual least-privilege form: the adds survive.
  if (drop_all) caps.clear();
  for (const auto& n : c.add_capabilities())
    if (!is_all(n)) add_unique(caps, must_cap(n, "capabilities.add_capabilities"));
  for (const auto& n : c.drop_capabilities()) {
    if (is_all(n)) continue;
    const std::string cap = must_cap(n, "capabilities.drop_capabilities");
    caps.erase(std::remove(caps.begin(), caps.end(), cap), caps.end());
  }
  return caps;
}

}  // namespace crius::oci::cri::detail
