// Bytes to hex and back.
#include <gtest/gtest.h>

#include "base/hex.h"

namespace crius {
namespace {

TEST(Hex, AnyBytesGoThereAndBackAndOnlyLowercaseHexDecodes) {
  const std::string bytes("\x00\x7f\x80\xff" "ab", 6);
  EXPECT_EQ(hex_encode(bytes), "007f80ff6162");
  EXPECT_EQ(hex_decode(hex_encode(bytes)), bytes);
  EXPECT_EQ(hex_decode(""), "");
  EXPECT_FALSE(hex_decode("abc"));  // odd
  EXPECT_FALSE(hex_decode("0G"));
  EXPECT_FALSE(hex_decode("AB"));
}

}  // namespace
}  // namespace crius
