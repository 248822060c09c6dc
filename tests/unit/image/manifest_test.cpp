// Manifests, indexes, platform choice, registry challenges, targets and
// AuthConfig.auth.
#include <gtest/gtest.h>

#include "base/error.h"
#include "image/manifest.h"
#include "image/registry_client.h"

namespace crius::image {
namespace {

std::string d(char c) { return "sha256:" + std::string(64, c); }

TEST(ImageManifest, OciManifest) {
  auto m = parse_manifest(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + d('a') + R"(","size":10},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + d('b') + R"(","size":20}]})",
                          "");
  EXPECT_FALSE(m.is_index);
  EXPECT_EQ(m.config.digest, d('a'));
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].size, 20);
}

TEST(ImageManifest, SchemaOneIsRefusedClearly) {
  try {
    parse_manifest(R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})",
                   "application/vnd.docker.distribution.manifest.v1+prettyjws");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
    EXPECT_NE(std::string(e.what()).find("schema 1"), std::string::npos) << e.what();
  }
}

TEST(ImageManifest, BadDigestInDescriptorIsRefused) {
  EXPECT_THROW(parse_manifest(R"({"schemaVersion":2,"config":{"digest":"sha256:zz","size":1},"layers":[]})", ""), Error);
}

TEST(ImageManifest, PlatformFromIndexAndErrorListsWhatIsOffered) {
  auto index = parse_manifest(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"digest":")" + d('1') + R"(","size":1,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
    {"digest":")" + d('2') + R"(","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"digest":")" + d('3') + R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}},
    {"digest":")" + d('4') + R"(","size":1,"platform":{"os":"windows","architecture":"amd64"}}]})",
                              "");
  ASSERT_TRUE(index.is_index);
  EXPECT_EQ(select_platform(index, {"linux", "amd64", ""}).digest, d('3'));
  EXPECT_EQ(select_platform(index, {"linux", "arm64", "v8"}).digest, d('2'));
  EXPECT_EQ(select_platform(index, {"linux", "arm", "v7"}).digest, d('1'));
  try {
    select_platform(index, {"linux", "s390x", ""});
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(msg.find("linux/s390x"), std::string::npos) << msg;
    EXPECT_NE(msg.find("linux/arm/v7, linux/arm64/v8, linux/amd64, windows/amd64"), std::string::npos) << msg;
  }
  EXPECT_EQ(host_platform().os, "linux");
}

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

TEST(ImageRegistry, AuthFieldDecodes) {
  auto [u, p] = Credentials::decode_auth("dXNlcjpwYTpzcw==");  // user:pa:ss
  EXPECT_EQ(u, "user");
  EXPECT_EQ(p, "pa:ss");
  EXPECT_THROW(Credentials::decode_auth("bm9jb2xvbg=="), Error);  // "nocolon"
}

}  // namespace
}  // namespace crius::image
