// kill <id> [signal]: SIGTERM by default; --all for every process of the
// container.
#include "base/error.h"
#include "oci/runtime/cli_internal.h"
#include "oci/runtime/signals.h"

namespace crius::oci::runtime::cli {

int cmd_kill(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  if (a.positional.size() > 2) throw InvalidArgument("kill: unexpected argument \"" + a.positional[2] + "\"");
  int sig = SIGTERM;
  if (a.positional.size() == 2) {
    try {
      sig = parse_signal(a.positional[1]);
    } catch (const Error& e) {
      throw InvalidArgument(std::string("kill: ") + e.what());
    }
  }
  Container::load(root, id).kill(sig, a.has("all"));
  return 0;
}

}  // namespace crius::oci::runtime::cli
