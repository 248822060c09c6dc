#include "server/reload.h"

#include <algorithm>
#include <array>

namespace crius::server {
namespace {

// Sections of which every key is restart-only: their servers are started
// once with these settings.
constexpr std::array<std::string_view, 2> kRestartSections = {"streaming.", "metrics."};
// The cgroup driver shaped every pod's cgroup and every monitor's runtime
// flags; mixing drivers between pods of one node is not something to do live.
constexpr std::array<std::string_view, 4> kRestartKeys = {"root", "state", "listen", "cgroup_driver"};

// Puts back what needs_restart() names; the two lists are kept in step (and tested).
void keep_restart_keys(conf::Config& next, const conf::Config& current) {
  next.root = current.root;
  next.state = current.state;
  next.listen = current.listen;
  next.cgroup_driver = current.cgroup_driver;
  next.streaming = current.streaming;
  next.metrics = current.metrics;
}

}  // namespace

bool needs_restart(std::string_view key) {
  if (std::find(kRestartKeys.begin(), kRestartKeys.end(), key) != kRestartKeys.end()) return true;
  return std::any_of(kRestartSections.begin(), kRestartSections.end(),
                     [&](std::string_view s) { return key.starts_with(s); });
}

ReloadPlan plan_reload(const conf::Config& current, conf::Config next) {
  ReloadPlan plan;
  for (auto& c : conf::diff(current, next))
    if (needs_restart(c.key)) plan.kept.push_back(std::move(c));
  keep_restart_keys(next, current);
  plan.applied = conf::diff(current, next);
  plan.config = std::move(next);
  return plan;
}

}  // namespace crius::server
