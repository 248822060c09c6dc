// delete [--force]: remove a stopped container (--force kills a running one).
#include "base/error.h"
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

int cmd_delete(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  try {
    Container::load(root, id).destroy(a.has("force"));
  } catch (const Error& e) {
    // runc: a forced delete of a container that is already gone succeeds.
    if (!(a.has("force") && e.code() == ErrorCode::not_found)) throw;
  }
  return 0;
}

}  // namespace crius::oci::runtime::cli
