// Masked and read-only paths, and the AppArmor profile.
#include "base/error.h"
#include "base/file.h"
#include "base/strings.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

constexpr const char* kDefaultAppArmor = "crius-default";

bool apparmor_profile_loaded(const std::string& name) {
  // Lines read "<name> (<mode>)"; none when AppArmor is off.
  for (const auto& line : split(read_file_or_empty("/sys/kernel/security/apparmor/profiles"), '\n'))
    if (line.starts_with(name + " (")) return true;
  return false;
}

}  // namespace

// kubelet's defaults for procMount Default (pkg/securitycontext).
const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> v = {
      "/proc/asound",       "/proc/acpi",        "/proc/kcore",       "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/proc/scsi",         "/sys/firmware",     "/sys/devices/virtual/powercap",
  };
  return v;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> v = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger"};
  return v;
}

std::string apparmor_profile(const ::runtime::v1::LinuxContainerSecurityContext& sc, const Defaults& d,
                             bool privileged) {
  enum { none, runtime_default, unconfined, localhost } kind = none;
  std::string name;
  if (sc.has_apparmor()) {
    switch (sc.apparmor().profile_type()) {
      case ::runtime::v1::SecurityProfile::Localhost:
        kind = localhost;
        name = sc.apparmor().localhost_ref();
        break;
      case ::runtime::v1::SecurityProfile::Unconfined: kind = unconfined; break;
      default: kind = runtime_default; break;
    }
  } else {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    // The deprecated string form, still sent by older kubelets.
    const std::string& p = sc.apparmor_profile();
#pragma GCC diagnostic pop
    if (p.empty()) kind = none;
    else if (p == "runtime/default") kind = runtime_default;
    else if (p == "unconfined") kind = unconfined;
    else if (p.starts_with("localhost/")) kind = localhost, name = p.substr(10);
    else throw InvalidArgument("apparmor_profile \"" + p + "\": expected runtime/default, unconfined or localhost/<name>");
  }
  switch (kind) {
    case none:
    case unconfined: return "";
    case runtime_default:
      // Privileged containers run unconfined unless a profile is named.
      if (privileged || !d.apparmor_enabled || !apparmor_profile_loaded(kDefaultAppArmor)) return "";
      return kDefaultAppArmor;
    case localhost:
      if (name.empty()) throw InvalidArgument("apparmor: Localhost profile without a localhost_ref");
      if (!d.apparmor_enabled)
        throw InvalidArgument("apparmor profile \"" + name + "\" requested but AppArmor is not enabled on this node");
      return name;
  }
  return "";
}

}  // namespace crius::oci::cri::detail
