// The config as an ordered JSON tree: the one definition of the printed shape,
// shared by to_yaml, to_json and the defaults shown by --help. Internal to conf/.
#pragma once

#include <nlohmann/json.hpp>

#include "conf/config.h"

namespace crius::conf {

// Keys in the order of config.h; durations as format_duration() strings.
nlohmann::ordered_json config_tree(const Config&);

// A value in YAML flow style on one line, e.g. {crius: {type: builtin, path: ""}}.
std::string flow_yaml(const nlohmann::ordered_json&);

}  // namespace crius::conf
