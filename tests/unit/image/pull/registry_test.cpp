// Registry challenges and where a reference is fetched from.
#include <gtest/gtest.h>

#include "image/pull/registry_auth.h"
#include "image/pull/registry_targets.h"

namespace crius::image {
namespace {

TEST(ImageRegistry, BearerChallengeParameters) {
  auto c = parse_challenge(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  EXPECT_EQ(c[""], "bearer");
  EXPECT_EQ(c["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c["service"], "registry.docker.io");
  EXPECT_EQ(c["scope"], "repository:library/busybox:pull");
  EXPECT_EQ(parse_challenge(R"(Basic realm="reg")")[""], "basic");
}

TEST(ImageRegistry, TargetsFollowPrefixLocationAndMirrors) {
  conf::ImageConfig cfg;
  cfg.registries = {{"example.test", "127.0.0.1:5000", false, {{"127.0.0.1:6000/cache", true}}},
                    {"example.test/special", "other.test/x", true, {}}};
  auto t = targets_for(parse_reference("example.test/app/web:v1"), cfg);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_TRUE(t[0].mirror);
  EXPECT_EQ(t[0].host, "127.0.0.1:6000");
  EXPECT_EQ(t[0].repo, "cache/app/web");
  EXPECT_TRUE(t[0].insecure);
  EXPECT_EQ(t[1].host, "127.0.0.1:5000");
  EXPECT_EQ(t[1].repo, "app/web");
  EXPECT_FALSE(t[1].mirror);
  auto longest = targets_for(parse_reference("example.test/special/a"), cfg);
  ASSERT_EQ(longest.size(), 1u);
  EXPECT_EQ(longest[0].host, "other.test");
  EXPECT_EQ(longest[0].repo, "x/a");
  auto hub = targets_for(parse_reference("busybox"), cfg);
  ASSERT_EQ(hub.size(), 1u);
  EXPECT_EQ(hub[0].host, "registry-1.docker.io");
  EXPECT_EQ(hub[0].repo, "library/busybox");
  EXPECT_EQ(targets_for(parse_reference("example.testing/a"), cfg)[0].host, "example.testing") << "prefix matches whole components";
}

}  // namespace
}  // namespace crius::image
