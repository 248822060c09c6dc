// crius: the CRI daemon. Parses the command line and hands over to the server.
#include <iostream>
#include <vector>

#include "client/status_command.h"
#include "conf/load.h"
#include "base/log.h"
#include "base/version.h"
#include "server/daemon.h"
#include "sandbox/pause.h"
#include "server/rootless_entry.h"

int main(int argc, char** argv) {
  using namespace crius;
  // Before any thread exists, so that every thread inherits the mask.
  server::block_signals();
  // `crius status …` asks the running daemon; its arguments are its own,
  // and config flags may come before it (`crius --state /run/x status`).
  if (std::vector<const char*> args(argv, argv + argc); client::take_status_command(args))
    return client::status_main(static_cast<int>(args.size()), args.data(), std::cout, std::cerr);
  try {
    const conf::Options options = conf::parse_args(argc, argv);
    if (options.help) {
      std::cout << conf::usage();
      return 0;
    }
    if (options.version) {
      std::cout << "crius version " << kVersion << "\n";
      return 0;
    }
    conf::Config config = conf::load(options);
    if (options.command == "config") {
      std::cout << conf::to_yaml(config);
      return 0;
    }
    // Before any thread exists: a user namespace takes one thread.
    if (options.user) server::enter_rootless_namespaces(config.state, sandbox::default_pause_binary());
    return server::run_daemon(options, std::move(config));
  } catch (const std::exception& e) {
    log::error("crius cannot start", {{"error", e.what()}});
    return 1;
  }
}
