// run: create and start in one step. --detach returns at once; otherwise
// the runtime waits in the foreground and deletes the container after it
// exits (unless --keep), exiting with its status.
#include <sys/prctl.h>

#include <optional>

#include "base/log.h"
#include "oci/runtime/cli_internal.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime::cli {
namespace {

// The container is what failed to run; its removal failing too is logged
// so that the first error is the one the caller sees.
void destroy_after_failure(Container& c) {
  try {
    c.destroy(true);
  } catch (const std::exception& e) {
    log::warn("run " + c.id() + ": deleting the container after the failure: " + e.what());
  }
}

}  // namespace

int cmd_run(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  if (a.has("detach")) {
    Container c = Container::create(root, id, create_options(a));
    try {
      c.start();
    } catch (...) {
      destroy_after_failure(c);
      throw;
    }
    return 0;
  }
  CreateOptions opts = create_options(a);
  opts.start_immediately = true;
  std::optional<ConsolePair> console;
  if (opts.console_socket.empty()) {
    const Spec spec = load_spec(opts.bundle);
    if (spec.process && spec.process->terminal) {
      console = make_console_pair();
      opts.console_fd = console->theirs.get();
    }
  }
  // The init may be a grandchild (joined pid/user namespace): adopt it.
  if (!a.has("no-subreaper")) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  ForwardedSignals signals;
  Container c = Container::create(root, id, opts);
  int code = 255;
  try {
    std::unique_ptr<TerminalProxy> tty;
    if (console) tty = take_terminal(*console);
    log::debug("run " + id + ": started");
    code = wait_in_foreground(c.pid(), signals.fd(), std::move(tty));
  } catch (...) {
    destroy_after_failure(c);
    throw;
  }
  log::debug("run " + id + ": exited");
  if (!a.has("keep")) c.destroy(true);
  log::debug("run " + id + ": deleted");
  return code;
}

}  // namespace crius::oci::runtime::cli
