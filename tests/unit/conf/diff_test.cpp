// conf::diff: the keys a reload reports as changed, with both values.
#include <gtest/gtest.h>

#include "conf/diff.h"

namespace crius::conf {
namespace {

TEST(ConfDiff, EqualConfigsHaveNoChanges) {
  EXPECT_TRUE(diff(Config(), Config()).empty());
}

TEST(ConfDiff, ScalarsListsAndDurationsArePrintedAsInTheFile) {
  Config a, b;
  b.runtime.pids_limit = 256;
  b.network.cni_plugin_dirs = {"/opt/cni/bin"};
  b.network.cni_plugin_timeout = std::chrono::seconds(30);
  b.image.pinned_images = {"registry.test/pause:3.9"};
  EXPECT_EQ(diff(a, b), (std::vector<Change>{
                            {"network.cni_plugin_dirs", "[/opt/cni/bin, /usr/lib/cni]", "[/opt/cni/bin]"},
                            {"network.cni_plugin_timeout", "1m", "30s"},
                            {"image.pinned_images", "[]", "[registry.test/pause:3.9]"},
                            {"runtime.pids_limit", "0", "256"},
                        }));
}

TEST(ConfDiff, HandlersAreComparedOneByOne) {
  Config a, b;
  b.runtime.handlers["kata"] = {"oci", "/usr/bin/kata-runtime"};
  b.runtime.handlers.erase("crun");
  b.runtime.handlers["runc"].path = "/usr/local/bin/runc";
  const auto changes = diff(a, b);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0], (Change{"runtime.handlers.crun", "{type: oci, path: crun}", ""}));
  EXPECT_EQ(changes[1], (Change{"runtime.handlers.kata", "", "{type: oci, path: /usr/bin/kata-runtime}"}));
  EXPECT_EQ(changes[2], (Change{"runtime.handlers.runc", "{type: oci, path: runc}",
                                "{type: oci, path: /usr/local/bin/runc}"}));
}

TEST(ConfDiff, RegistriesAreOneValue) {
  Config a, b;
  b.image.registries = {{.prefix = "docker.io", .location = "", .insecure = false, .mirrors = {{"mirror.test", true}}}};
  const auto changes = diff(a, b);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "image.registries");
  EXPECT_EQ(changes[0].before, "[]");
  EXPECT_NE(changes[0].after.find("mirror.test"), std::string::npos) << changes[0].after;
  EXPECT_EQ(changes[0].after.find('\n'), std::string::npos) << "one line for the log";
}

TEST(ConfDiff, EveryKindOfKeyIsSeen) {
  Config a, b;
  b.root = "/srv/crius";
  b.log_level = "debug";
  b.streaming.port = 10010;
  b.metrics.enabled = false;
  b.runtime.default_capabilities = {"CHOWN"};
  b.runtime.shm_size = 1 << 20;
  std::vector<std::string> keys;
  for (const auto& c : diff(a, b)) keys.push_back(c.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"root", "log_level", "runtime.default_capabilities", "runtime.shm_size",
                                            "streaming.port", "metrics.enabled"}));
}

}  // namespace
}  // namespace crius::conf
