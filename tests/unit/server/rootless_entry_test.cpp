// The subordinate ranges a rootless crius maps (/etc/subuid, /etc/subgid).
#include "server/rootless_entry.h"

#include <gtest/gtest.h>

namespace crius::server {
namespace {

using Ranges = std::vector<SubordinateRange>;

TEST(SubordinateRanges, ByNameOrUidInFileOrder) {
  const std::string text =
      "# a comment\n"
      "alice:100000:65536\n"
      "bob:165536:65536\n"
      "1001:300000:1000\n"
      "alice:400000:10\n";
  EXPECT_EQ(subordinate_ranges(text, "alice", 1000), (Ranges{{100000, 65536}, {400000, 10}}));
  EXPECT_EQ(subordinate_ranges(text, "carol", 1001), (Ranges{{300000, 1000}}));
  EXPECT_EQ(subordinate_ranges(text, "dave", 1002), Ranges{});
}

TEST(SubordinateRanges, MalformedLinesAreSkipped) {
  const std::string text =
      "alice:100000\n"
      "alice:x:5\n"
      "alice:5:0\n"
      "alice:7:3junk\n"
      "\n"
      "alice:200000:5\n";
  EXPECT_EQ(subordinate_ranges(text, "alice", 1000), (Ranges{{200000, 5}}));
}

}  // namespace
}  // namespace crius::server
