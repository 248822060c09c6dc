// Where the config comes from and how it is shown: the command line, the main
// YAML file, the drop-in directory, validation, and printing as YAML or JSON.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "conf/config.h"
#include "conf/user_places.h"

namespace crius::conf {

// What the command line asked for. Config-key flags are kept as typed and
// applied by load(), so that a reload (SIGHUP) re-applies them over the files.
struct Options {
  std::string command;  // "" (run the daemon) or "config" (print the effective config and exit)
  bool help = false, version = false;
  std::string config_file = "/etc/crius/crius.yaml";
  bool config_file_explicit = false;  // --config given: then a missing file is an error
  std::string config_dir;             // drop-ins; empty: "crius.d" beside the config file
  std::vector<std::pair<std::string, std::string>> overrides;  // (flag as typed, e.g. "--root", value)
  // Started by a user other than root: the user's places replace the
  // defaults of config_file, root and state (user_places.h).
  std::optional<UserPlaces> user;
};

// `crius [command] [flags]`; `--flag value` or `--flag=value`. Throws
// ConfigError naming the offending argument ("--foo: unknown flag").
Options parse_args(int argc, const char* const argv[]);

// The --help text: every flag with its config key and default.
std::string usage();

// Whether systemd is the init system (/run/systemd/system exists); decides
// the default cgroup_driver.
bool systemd_is_init();
using SystemdProbe = bool (*)();

// The main file, then the drop-ins in name order, then the flags, each layer
// overriding the keys it sets; then defaults that depend on other keys; then
// validation. Throws ConfigError "<source>: <key>: <reason>" (one line per
// problem found after merging). `systemd_booted` is a seam for tests.
Config load(const Options&, SystemdProbe systemd_booted = &systemd_is_init);

// The effective config, every key, in the order of config.h; load() of this
// text gives back an equal Config.
std::string to_yaml(const Config&);
// The same keys and nesting as to_yaml (durations as strings like "1m30s").
nlohmann::json to_json(const Config&);

// Go-style durations: "1m", "30s", "1h30m", "500ms", "2m3.5s" (also ns, us,
// a sign, and a bare "0"). Precision is truncated to milliseconds. Throws
// std::invalid_argument.
std::chrono::milliseconds parse_duration(const std::string&);
using crius::format_duration;  // base/duration.h; parse_duration() reads it back exactly

}  // namespace crius::conf
