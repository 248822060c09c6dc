// Linux capabilities by name (CAP_CHOWN…) and their application with capset
// and prctl directly (no libcap needed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// The capability number for "CAP_X", or nullopt.
std::optional<int> capability_from_name(const std::string& name);
// All names this runtime knows, in number order.
const std::vector<std::string>& capability_names();

struct CapSets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Unknown names and names above the kernel's last capability are dropped and
// reported in `ignored` (as runc does, with a warning).
CapSets capsets_from_spec(const Capabilities&, int last_cap, std::vector<std::string>& ignored);
// /proc/sys/kernel/cap_last_cap, or 40 when unreadable.
int kernel_last_cap();

// In the container's init, while still root: drop from the bounding set
// every capability not in it. Returns 0 or an errno, sets `what`.
int drop_bounding(const CapSets&, int last_cap, std::string& what);
// After the uid switch: capset(effective, permitted, inheritable), then raise
// the ambient set. Returns 0 or an errno, sets `what`.
int apply_capsets(const CapSets&, int last_cap, std::string& what);

}  // namespace crius::oci::runtime
