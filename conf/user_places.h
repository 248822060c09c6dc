// Where a crius started by a user other than root keeps things (rootless):
// the XDG base directories instead of /etc, /var/lib and /run, so that
// nothing is written outside the user's own directories.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace crius::conf {

struct UserPlaces {
  std::string config_file;  // $XDG_CONFIG_HOME/crius/crius.yaml (~/.config/crius/crius.yaml)
  std::string root;         // $XDG_DATA_HOME/crius (~/.local/share/crius)
  std::string state;        // $XDG_RUNTIME_DIR/crius
};

using Getenv = std::function<const char*(const char*)>;

// The places for `uid` from its environment. XDG variables that are unset,
// empty or relative are ignored, as the XDG spec says. Without
// XDG_RUNTIME_DIR the state is /run/user/<uid>/crius (what logind makes);
// without HOME, a ConfigError.
UserPlaces user_places(unsigned uid, const Getenv& getenv);

// The places of this process: none when its effective user is root.
std::optional<UserPlaces> user_places_of_this_process();

}  // namespace crius::conf
