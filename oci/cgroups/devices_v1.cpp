// linux.resources.devices → the v1 devices controller. Rules are applied in
// order, each one overriding what came before, then the default set.
#include "oci/cgroups/resources.h"

namespace crius::oci::cgroups {
namespace {

std::string rule_text(const DeviceRule& r) {
  if (r.type == 'a' && r.major == -1 && r.minor == -1) return "a";
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

}  // namespace

std::vector<Write> v1_device_writes(const std::vector<DeviceRule>& rules) {
  std::vector<Write> w;
  std::vector<DeviceRule> all = rules;
  const bool allow_all = !rules.empty() && rules.back().allow && rules.back().type == 'a' &&
                         rules.back().major == -1 && rules.back().minor == -1 && rules.back().access == "rwm";
  if (!allow_all) {
    // Evaluation starts from "nothing allowed", as the v2 filter does.
    all.insert(all.begin(), DeviceRule{false, 'a', -1, -1, "rwm"});
    all.insert(all.end(), default_device_rules().begin(), default_device_rules().end());
  }
  for (const auto& r : all) {
    // "a" on devices.allow lifts every restriction; on devices.deny it
    // clears the list. A type-a rule with numbers becomes both c and b.
    if (r.type == 'a' && (r.major != -1 || r.minor != -1 || r.access != "rwm")) {
      for (char t : {'c', 'b'}) {
        DeviceRule x = r;
        x.type = t;
        w.push_back({"devices", x.allow ? "devices.allow" : "devices.deny", rule_text(x)});
      }
      continue;
    }
    w.push_back({"devices", r.allow ? "devices.allow" : "devices.deny", rule_text(r)});
  }
  return w;
}

}  // namespace crius::oci::cgroups
