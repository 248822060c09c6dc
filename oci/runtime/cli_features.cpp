// features: what this runtime supports, as runc's `features` JSON.
#include <iostream>

#include "oci/runtime/cli_internal.h"
#include "oci/runtime/defaults.h"

namespace crius::oci::runtime::cli {

int cmd_features(const std::string&, const ParsedArgs&) {
  std::cout << features().dump(4) << "\n";
  return 0;
}

}  // namespace crius::oci::runtime::cli
