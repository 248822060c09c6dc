// runtime.default_capabilities and runtime.pids_limit: defaults, file and
// flag forms, validation naming the key, and printing back.
#include <gtest/gtest.h>

#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

class ConfRuntimeCaps : public ConfFixture {};

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST_F(ConfRuntimeCaps, DefaultsAreCriOs) {
  Config c = load_with();
  EXPECT_EQ(c.runtime.default_capabilities,
            (std::vector<std::string>{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP",
                                      "NET_BIND_SERVICE", "KILL"}));
  EXPECT_EQ(c.runtime.pids_limit, 0);
}

TEST_F(ConfRuntimeCaps, FromFileAndFlags) {
  write(main_, "runtime:\n  default_capabilities: [CHOWN, CAP_NET_RAW]\n  pids_limit: 4096\n");
  Config c = load_with();
  EXPECT_EQ(c.runtime.default_capabilities, (std::vector<std::string>{"CHOWN", "CAP_NET_RAW"}));
  EXPECT_EQ(c.runtime.pids_limit, 4096);
  c = load_with({"--runtime-default-capabilities=KILL,SETUID", "--runtime-pids-limit=-1"});
  EXPECT_EQ(c.runtime.default_capabilities, (std::vector<std::string>{"KILL", "SETUID"}));
  EXPECT_EQ(c.runtime.pids_limit, -1);
  c = load_with({"--runtime-default-capabilities=[]"});
  EXPECT_TRUE(c.runtime.default_capabilities.empty());
}

TEST_F(ConfRuntimeCaps, UnknownCapabilityIsRefusedNamingTheKey) {
  write(main_, "runtime:\n  default_capabilities: [CHOWN, FLY]\n");
  EXPECT_CONTAINS(error(), main_ + ": runtime.default_capabilities[1]: unknown capability \"FLY\"");
  EXPECT_CONTAINS(error({"--runtime-default-capabilities=chown"}), "runtime.default_capabilities[0]");
}

TEST_F(ConfRuntimeCaps, PidsLimitBelowMinusOneIsRefused) {
  EXPECT_CONTAINS(error({"--runtime-pids-limit=-2"}), "--runtime-pids-limit: runtime.pids_limit: must be -1, 0");
  EXPECT_CONTAINS(error({"--runtime-pids-limit=lots"}), "runtime.pids_limit");
}

TEST_F(ConfRuntimeCaps, PrintedAndLoadedBack) {
  write(main_, "runtime:\n  default_capabilities: [SYS_ADMIN]\n  pids_limit: 100\n");
  Config first = load_with();
  const std::string yaml = to_yaml(first);
  EXPECT_CONTAINS(yaml, "default_capabilities:");
  EXPECT_CONTAINS(yaml, "pids_limit: 100");
  write(main_, yaml);
  EXPECT_EQ(load_with(), first) << yaml;
  EXPECT_EQ(to_json(first)["runtime"]["pids_limit"], 100);
}

}  // namespace
}  // namespace crius::conf
