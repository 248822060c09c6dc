// pause and resume: freeze and thaw the container's cgroup.
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

int cmd_pause(const std::string& root, const ParsedArgs& a) {
  Container::load(root, need_id(a)).pause();
  return 0;
}

int cmd_resume(const std::string& root, const ParsedArgs& a) {
  Container::load(root, need_id(a)).resume();
  return 0;
}

}  // namespace crius::oci::runtime::cli
