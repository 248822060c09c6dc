// The crius daemon: claims the socket, serves the CRI services and metrics,
// and handles signals (TERM/INT stop, HUP reloads) until told to stop.
#pragma once

#include "conf/config.h"
#include "conf/load.h"

namespace crius::server {

// Blocks TERM, INT and HUP in the calling thread and every thread it starts
// later, so that only Daemon::run's sigwait sees them. Call first in main().
void block_signals();

// Serves until SIGTERM or SIGINT; returns the process exit code.
int run_daemon(const conf::Options& options, conf::Config config);

}  // namespace crius::server
