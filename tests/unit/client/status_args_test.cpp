// Where `status` may stand on crius's command line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/status_command.h"

namespace crius::client {
namespace {

std::vector<std::string> strings(const std::vector<const char*>& v) { return {v.begin(), v.end()}; }

TEST(StatusArgs, StatusAfterConfigFlagsComesFirst) {
  std::vector<const char*> argv = {"crius", "--state", "/run/x", "--root=/var/x", "status", "pods", "--json"};
  ASSERT_TRUE(take_status_command(argv));
  EXPECT_EQ(strings(argv), (std::vector<std::string>{"crius", "status", "--state", "/run/x", "--root=/var/x", "pods",
                                                     "--json"}));
}

TEST(StatusArgs, StatusFirstIsLeftAsItIs) {
  std::vector<const char*> argv = {"crius", "status", "info", "--socket", "/run/x.sock"};
  ASSERT_TRUE(take_status_command(argv));
  EXPECT_EQ(strings(argv), (std::vector<std::string>{"crius", "status", "info", "--socket", "/run/x.sock"}));
}

TEST(StatusArgs, AFlagsValueIsNotTheCommand) {
  // A directory called "status" is the value of --root, not the command.
  std::vector<const char*> argv = {"crius", "--root", "status"};
  EXPECT_FALSE(take_status_command(argv));
  std::vector<const char*> config = {"crius", "--root", "/var/x", "config"};
  EXPECT_FALSE(take_status_command(config));
  std::vector<const char*> daemon = {"crius", "--version"};
  EXPECT_FALSE(take_status_command(daemon));
  // A flag without a value does not swallow the command after it.
  std::vector<const char*> help = {"crius", "--help", "status"};
  EXPECT_TRUE(take_status_command(help));
}

}  // namespace
}  // namespace crius::client
