// Where a crius started by a user keeps its config, root and state.
#include "conf/user_places.h"

#include <gtest/gtest.h>

#include <map>

#include "conf/config.h"

namespace crius::conf {
namespace {

Getenv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(UserPlaces, XdgDirectoriesWhenSet) {
  const UserPlaces p = user_places(1000, env_of({{"HOME", "/home/a"},
                                                 {"XDG_CONFIG_HOME", "/cfg"},
                                                 {"XDG_DATA_HOME", "/data"},
                                                 {"XDG_RUNTIME_DIR", "/run/user/1000"}}));
  EXPECT_EQ(p.config_file, "/cfg/crius/crius.yaml");
  EXPECT_EQ(p.root, "/data/crius");
  EXPECT_EQ(p.state, "/run/user/1000/crius");
}

TEST(UserPlaces, HomeDefaultsForUnsetEmptyOrRelativeXdgVariables) {
  const UserPlaces p =
      user_places(1000, env_of({{"HOME", "/home/a"}, {"XDG_CONFIG_HOME", ""}, {"XDG_DATA_HOME", "rel/data"}}));
  EXPECT_EQ(p.config_file, "/home/a/.config/crius/crius.yaml");
  EXPECT_EQ(p.root, "/home/a/.local/share/crius");
  EXPECT_EQ(p.state, "/run/user/1000/crius");  // logind's place for the user
}

TEST(UserPlaces, NoHomeAndNoXdgIsAnError) {
  try {
    user_places(1000, env_of({}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("HOME"), std::string::npos) << e.what();
  }
  // Both XDG homes given: HOME is not needed.
  EXPECT_EQ(user_places(7, env_of({{"XDG_CONFIG_HOME", "/c"}, {"XDG_DATA_HOME", "/d"}})).root, "/d/crius");
}

}  // namespace
}  // namespace crius::conf
