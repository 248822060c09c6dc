#include "oci/runtime/apparmor.h"

#include "base/file.h"

namespace crius::oci::runtime {

bool apparmor_enabled() {
  // Missing (no AppArmor module) or unreadable both mean "not enabled".
  return read_file_or_empty("/sys/module/apparmor/parameters/enabled").starts_with('Y');
}

}  // namespace crius::oci::runtime
