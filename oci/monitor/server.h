// The monitor process itself: a single-threaded epoll loop over a signalfd
// (SIGCHLD, SIGTERM, SIGINT), the listening socket <dir>/monitor.sock, client
// connections, the containers' stdio and exec timers. Single-threaded
// because the builtin runtime clones container inits from the calling
// thread, and because one monitor runs per pod on every node.
#pragma once

#include <string>
#include <vector>

#include "oci/monitor/client.h"

namespace crius::oci::monitor {

struct MonitorOptions {
  std::string dir;
  std::string pod_id;
  Handler handler;
  std::vector<std::string> cgroup_dirs;
  // Told "ok\n" once the socket listens, or the reason setup failed; -1: none.
  int ready_fd = -1;
};

// Sets the process up (subreaper, cgroups, socket) and serves until asked
// to exit with no container left. Returns the process exit code.
int run_monitor(const MonitorOptions& opts);

}  // namespace crius::oci::monitor
