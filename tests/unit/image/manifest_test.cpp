// Manifests, indexes, platform choice, and AuthConfig.auth.
#include <gtest/gtest.h>

#include "base/error.h"
#include "image/manifest.h"
#include "image/credentials.h"

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

TEST(ImageRegistry, AuthFieldDecodes) {
  auto [u, p] = Credentials::decode_auth("dXNlcjpwYTpzcw==");  // user:pa:ss
  EXPECT_EQ(u, "user");
  EXPECT_EQ(p, "pa:ss");
  EXPECT_THROW(Credentials::decode_auth("bm9jb2xvbg=="), Error);  // "nocolon"
}

}  // namespace
}  // namespace crius::image
