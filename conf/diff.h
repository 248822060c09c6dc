// What changed between two configs, key by key, with both values printed as
// the config file would have them: what a reload logs.
#pragma once

#include <string>
#include <vector>

#include "conf/config.h"

namespace crius::conf {

struct Change {
  std::string key;  // "runtime.pids_limit"; a map key's entry as "runtime.handlers.runc"
  std::string before, after;  // one-line YAML flow values; "" for an absent map entry

  bool operator==(const Change&) const = default;
};

// Every key whose value differs, in the order of config.h. A map-valued key
// (runtime.handlers) is compared entry by entry, so that adding one handler
// names that handler only; lists are compared whole.
std::vector<Change> diff(const Config& before, const Config& after);

}  // namespace crius::conf
