// Image references: parsing, normalization, short-name candidates.
#include <gtest/gtest.h>

#include <vector>

#include "base/error.h"
#include "image/reference.h"

namespace crius::image {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ImageReference, ShortNameGetsDockerHubLibraryAndLatest) {
  auto r = parse_reference("busybox");
  EXPECT_EQ(r.str(), "docker.io/library/busybox:latest");
  EXPECT_EQ(r.domain, "docker.io");
  EXPECT_EQ(r.path, "library/busybox");
  EXPECT_EQ(r.tag, "latest");
}

TEST(ImageReference, DockerHubUserRepoKeepsItsPath) {
  EXPECT_EQ(parse_reference("user/app:1.2").str(), "docker.io/user/app:1.2");
  EXPECT_EQ(parse_reference("index.docker.io/busybox").str(), "docker.io/library/busybox:latest");
}

TEST(ImageReference, HostPortAndNestedPath) {
  auto r = parse_reference("registry.local:5000/a/b:tag");
  EXPECT_EQ(r.domain, "registry.local:5000");
  EXPECT_EQ(r.path, "a/b");
  EXPECT_EQ(r.tag, "tag");
  EXPECT_EQ(parse_reference("localhost/app").str(), "localhost/app:latest");
  EXPECT_EQ(parse_reference("127.0.0.1:5000/app").str(), "127.0.0.1:5000/app:latest");
  EXPECT_EQ(parse_reference("[::1]:5000/app:v1").domain, "[::1]:5000");
}

TEST(ImageReference, DigestAloneAndWithTag) {
  auto d = parse_reference("busybox@" + kDigest);
  EXPECT_EQ(d.tag, "");
  EXPECT_EQ(d.digest, kDigest);
  EXPECT_EQ(d.str(), "docker.io/library/busybox@" + kDigest);
  auto td = parse_reference("quay.io/a/b:v1@" + kDigest);
  EXPECT_EQ(td.tag, "v1");
  EXPECT_EQ(td.digest, kDigest);
  EXPECT_EQ(td.str(), "quay.io/a/b:v1@" + kDigest);
}

TEST(ImageReference, MalformedIsInvalidArgumentNamingTheReference) {
  for (std::string bad : std::vector<std::string>{"", "busybox:", "busybox@sha256:abc", "busybox@md5:" + std::string(32, 'a'),
                          "a//b", "-lead", "trail-", "busybox:bad tag", "host:port:x/a", "reg:99999999/a",
                          ":tag", "a/B"}) {
    try {
      parse_reference(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << bad;
      EXPECT_NE(std::string(e.what()).find("\"" + bad + "\""), std::string::npos) << e.what();
    }
  }
}

TEST(ImageReference, ComponentSeparators) {
  EXPECT_NO_THROW(parse_reference("a.b_c__d---e"));
  EXPECT_THROW(parse_reference("a___b"), Error);
  EXPECT_THROW(parse_reference("a..b"), Error);
}

TEST(ImageReference, ShortNamesTriedInSearchOrder) {
  auto c = resolve_candidates("app:v1", {"registry.local:5000", "docker.io"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].str(), "registry.local:5000/app:v1");
  EXPECT_EQ(c[1].str(), "docker.io/library/app:v1");
  auto full = resolve_candidates("quay.io/x/y", {"registry.local:5000", "docker.io"});
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].str(), "quay.io/x/y:latest");
}

TEST(ImageReference, DigestCheck) {
  EXPECT_TRUE(is_sha256_digest(kDigest));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(63, 'a')));
}

}  // namespace
}  // namespace crius::image
