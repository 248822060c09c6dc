#include "conf/user_places.h"

#include <unistd.h>

#include <cstdlib>

#include "conf/config.h"

namespace crius::conf {
namespace {

// An XDG variable counts only when it holds an absolute path.
std::optional<std::string> xdg(const Getenv& getenv, const char* name) {
  const char* v = getenv(name);
  if (!v || v[0] != '/') return std::nullopt;
  return std::string(v);
}

}  // namespace

UserPlaces user_places(unsigned uid, const Getenv& getenv) {
  const char* home_env = getenv("HOME");
  const auto config_home = xdg(getenv, "XDG_CONFIG_HOME");
  const auto data_home = xdg(getenv, "XDG_DATA_HOME");
  if ((!config_home || !data_home) && (!home_env || home_env[0] != '/'))
    throw ConfigError("HOME: must be an absolute path when crius runs as a user other than root (uid " +
                      std::to_string(uid) + ") without XDG_CONFIG_HOME and XDG_DATA_HOME");
  const std::string home = home_env ? home_env : "";
  UserPlaces p;
  p.config_file = config_home.value_or(home + "/.config") + "/crius/crius.yaml";
  p.root = data_home.value_or(home + "/.local/share") + "/crius";
  p.state = xdg(getenv, "XDG_RUNTIME_DIR").value_or("/run/user/" + std::to_string(uid)) + "/crius";
  return p;
}

std::optional<UserPlaces> user_places_of_this_process() {
  const uid_t uid = ::geteuid();
  if (uid == 0) return std::nullopt;
  return user_places(uid, [](const char* name) { return std::getenv(name); });
}

}  // namespace crius::conf
