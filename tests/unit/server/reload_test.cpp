// plan_reload: what a SIGHUP applies and what it keeps until a restart.
#include <gtest/gtest.h>

#include "server/reload.h"

namespace crius::server {
namespace {

std::vector<std::string> keys(const std::vector<conf::Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.key);
  return out;
}

TEST(ReloadPlan, LiveKeysAreApplied) {
  conf::Config now, next;
  next.image.pinned_images = {"registry.test/pause:3.9"};
  next.runtime.handlers["kata"] = {"oci", "kata-runtime"};
  next.runtime.default_handler = "kata";
  next.runtime.pids_limit = 100;
  next.runtime.shm_size = 1 << 20;
  next.runtime.default_capabilities = {"CHOWN"};
  next.network.cni_plugin_dirs = {"/nowhere"};
  next.network.cni_plugin_timeout = std::chrono::seconds(5);
  const ReloadPlan plan = plan_reload(now, next);
  EXPECT_EQ(plan.config, next);
  EXPECT_TRUE(plan.kept.empty());
  EXPECT_EQ(keys(plan.applied),
            (std::vector<std::string>{"network.cni_plugin_dirs", "network.cni_plugin_timeout", "image.pinned_images",
                                      "runtime.default_handler", "runtime.handlers.kata",
                                      "runtime.default_capabilities", "runtime.pids_limit", "runtime.shm_size"}));
}

TEST(ReloadPlan, RestartOnlyKeysKeepTheirValue) {
  conf::Config now, next;
  next.root = "/srv/crius";
  next.state = "/run/other";
  next.listen = "/run/other/crius.sock";
  next.cgroup_driver = "systemd";
  next.streaming.port = 10010;
  next.streaming.max_sessions = 3;
  next.metrics.address = "127.0.0.1:9999";
  next.log_level = "debug";
  const ReloadPlan plan = plan_reload(now, next);
  EXPECT_EQ(keys(plan.kept), (std::vector<std::string>{"root", "state", "listen", "cgroup_driver", "streaming.port",
                                                        "streaming.max_sessions", "metrics.address"}));
  EXPECT_EQ(plan.kept[0].before, now.root);
  EXPECT_EQ(plan.kept[0].after, "/srv/crius");
  EXPECT_EQ(keys(plan.applied), std::vector<std::string>{"log_level"});
  conf::Config expected = now;
  expected.log_level = "debug";
  EXPECT_EQ(plan.config, expected);
}

TEST(ReloadPlan, EveryRestartOnlyKeyIsPutBack) {
  // A key needs_restart() names but plan_reload() does not put back would be
  // reported as kept and applied anyway.
  conf::Config now, next;
  next.root = "/a";
  next.state = "/b";
  next.listen = "/b/s";
  next.cgroup_driver = "x";
  next.streaming = {.address = "0.0.0.0", .port = 1, .tls_cert = "c", .tls_key = "k",
                    .idle_timeout = std::chrono::seconds(1), .max_sessions = 1};
  next.metrics = {.enabled = false, .address = "127.0.0.1:1"};
  const ReloadPlan plan = plan_reload(now, next);
  EXPECT_TRUE(plan.applied.empty()) << plan.applied.front().key;
  EXPECT_EQ(plan.config, now);
  for (const auto& c : plan.kept) EXPECT_TRUE(needs_restart(c.key)) << c.key;
  EXPECT_EQ(plan.kept.size(), 12u);
}

TEST(ReloadPlan, NeedsRestart) {
  for (const char* k : {"root", "state", "listen", "cgroup_driver", "streaming.address", "metrics.enabled"})
    EXPECT_TRUE(needs_restart(k)) << k;
  for (const char* k : {"log_level", "image.registries", "runtime.handlers.runc", "runtime.shm_size",
                        "network.cni_plugin_timeout", "network.cni_config_dir", "rootless"})
    EXPECT_FALSE(needs_restart(k)) << k;
}

}  // namespace
}  // namespace crius::server
