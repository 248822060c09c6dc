// The node's pod CIDR from UpdateRuntimeConfig: what is accepted (one CIDR,
// a dual-stack pair as kubelet joins them), what is refused and how, the
// ipRanges form plugins get, and its keeping across a restart.
#include "cni/pod_cidr.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "cni/network.h"

namespace crius::cni {
namespace {

using Cidrs = std::vector<std::string>;

// The refusal's text, "" when the value was accepted.
std::string refusal(const std::string& value) {
  try {
    parse_pod_cidrs(value);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << value;
    return e.what();
  }
  return "";
}

TEST(PodCidr, OneCidrOfEitherFamily) {
  EXPECT_EQ(parse_pod_cidrs("10.244.1.0/24"), Cidrs{"10.244.1.0/24"});
  EXPECT_EQ(parse_pod_cidrs("fd00:10:244:1::/64"), Cidrs{"fd00:10:244:1::/64"});
  EXPECT_EQ(parse_pod_cidrs("0.0.0.0/0"), Cidrs{"0.0.0.0/0"});
  EXPECT_EQ(parse_pod_cidrs("192.168.7.7/32"), Cidrs{"192.168.7.7/32"});
}

TEST(PodCidr, DualStackAsKubeletJoinsIt) {
  EXPECT_EQ(parse_pod_cidrs("10.244.1.0/24,fd00:10:244:1::/64"), (Cidrs{"10.244.1.0/24", "fd00:10:244:1::/64"}));
  EXPECT_EQ(parse_pod_cidrs("fd00::/64, 10.0.0.0/8"), (Cidrs{"fd00::/64", "10.0.0.0/8"})) << "order kept, spaces dropped";
}

TEST(PodCidr, EmptyMeansNone) {
  EXPECT_TRUE(parse_pod_cidrs("").empty());
  EXPECT_TRUE(parse_pod_cidrs("  ").empty());
}

TEST(PodCidr, IPv6ComesOutCanonical) {
  EXPECT_EQ(parse_pod_cidrs("FD00:0000:0:0::/64"), Cidrs{"fd00::/64"});
  EXPECT_EQ(parse_pod_cidrs("2001:db8:0:0:1:0:0:0/112"), Cidrs{"2001:db8:0:0:1::/112"});
}

TEST(PodCidr, RefusalsNameTheFieldAndTheEntry) {
  for (const std::string bad : {"10.244.1.0", "10.244.1.0/33", "10.244.1/24", "10.244.1.0/-1", "10.244.1.0/",
                                "10.244.1.0/24x", "10.244.1.0/024", "fd00::/129", "not-a-cidr/8", "10.256.0.0/16",
                                "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8,11.0.0.0/8", "fd00::/64,fd01::/64",
                                "10.0.0.0/8,fd00::/64,fd01::/64", "10.244.1.1/24", "fd00::1/64", " / "}) {
    const std::string why = refusal(bad);
    ASSERT_FALSE(why.empty()) << bad << " was accepted";
    EXPECT_NE(why.find("runtime_config.network_config.pod_cidr"), std::string::npos) << why;
    EXPECT_NE(why.find(bad), std::string::npos) << why;
  }
  EXPECT_NE(refusal("10.244.1.1/24").find("host bits"), std::string::npos);
  EXPECT_NE(refusal("10.0.0.0/8,11.0.0.0/8").find("same address family"), std::string::npos);
}

TEST(PodCidr, IpRangesIsOneRangeSetPerCidr) {
  const auto j = ip_ranges({"10.244.1.0/24", "fd00::/64"});
  EXPECT_EQ(j, nlohmann::json::parse(R"([[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/64"}]])"));
  EXPECT_EQ(ip_ranges({}), nlohmann::json::array());
}

struct CacheDir {
  CacheDir() {
    std::string t = (std::filesystem::temp_directory_path() / "crius-pod-cidr-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~CacheDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(PodCidr, KeptAcrossARestartAndOnlyChangesCount) {
  using namespace std::chrono_literals;
  CacheDir dir;
  {
    Cni cni(dir.path, 1s);
    EXPECT_TRUE(cni.pod_cidrs().empty());
    EXPECT_TRUE(cni.set_pod_cidrs({"10.244.1.0/24"}));
    EXPECT_FALSE(cni.set_pod_cidrs({"10.244.1.0/24"})) << "the same again is no change";
    EXPECT_TRUE(cni.set_pod_cidrs({"10.244.2.0/24", "fd00::/64"}));
  }
  Cni again(dir.path, 1s);
  EXPECT_EQ(again.pod_cidrs(), (Cidrs{"10.244.2.0/24", "fd00::/64"}));
}

TEST(PodCidr, AnUnreadableSavedValueIsIgnored) {
  using namespace std::chrono_literals;
  CacheDir dir;
  std::ofstream(dir.path + "/pod-cidr") << "garbage\n";
  Cni cni(dir.path, 1s);
  EXPECT_TRUE(cni.pod_cidrs().empty());
}

}  // namespace
}  // namespace crius::cni
