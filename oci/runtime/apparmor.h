// Whether the kernel has AppArmor enabled, so that an apparmorProfile can be
// applied (create and exec refuse one otherwise; the CRI side picks its
// default profile by it).
#pragma once

namespace crius::oci::runtime {

bool apparmor_enabled();

}  // namespace crius::oci::runtime
