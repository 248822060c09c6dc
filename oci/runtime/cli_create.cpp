// create: set the container up and leave its init waiting for start.
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

CreateOptions create_options(const ParsedArgs& a) {
  CreateOptions o;
  o.bundle = a.get("bundle", ".");
  o.console_socket = a.get("console-socket");
  o.pid_file = a.get("pid-file");
  if (a.has("preserve-fds")) o.preserve_fds = parse_int(a.get("preserve-fds"), "preserve-fds");
  o.no_new_keyring = a.has("no-new-keyring");
  o.systemd_cgroup = a.has("systemd-cgroup");
  return o;
}

int cmd_create(const std::string& root, const ParsedArgs& a) {
  Container::create(root, need_id(a), create_options(a));
  return 0;
}

}  // namespace crius::oci::runtime::cli
