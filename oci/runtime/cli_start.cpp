// start: release a created container's init (it execs the process).
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

int cmd_start(const std::string& root, const ParsedArgs& a) {
  Container::load(root, need_id(a)).start();
  return 0;
}

}  // namespace crius::oci::runtime::cli
