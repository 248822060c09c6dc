// SIGHUP: which parts of a re-read config a running daemon takes up. Most
// keys are read from the ConfigStore snapshot at each RPC and so change on
// the next call; the ones listed by needs_restart() were used once at start
// (the socket, the directories, the streaming and metrics servers, the
// cgroup driver every pod and monitor was set up with) and keep their value.
#pragma once

#include <string_view>
#include <vector>

#include "conf/config.h"
#include "conf/diff.h"

namespace crius::server {

// Whether a key (as conf::diff names it) only changes with a restart.
bool needs_restart(std::string_view key);

struct ReloadPlan {
  conf::Config config;                // the new config with every restart-only key as it is now
  std::vector<conf::Change> applied;  // what changes now
  std::vector<conf::Change> kept;     // asked for, but needs a restart
};

ReloadPlan plan_reload(const conf::Config& current, conf::Config next);

}  // namespace crius::server
