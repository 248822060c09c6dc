// state: the OCI state of one container, as runc prints it.
#include <iostream>

#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

int cmd_state(const std::string& root, const ParsedArgs& a) {
  std::cout << Container::load(root, need_id(a)).state().to_public_json().dump(2) << "\n";
  return 0;
}

}  // namespace crius::oci::runtime::cli
