// Go-style durations in the config: parsing, printing, and the round trip.
#include <gtest/gtest.h>

#include "conf/load.h"

namespace crius::conf {
namespace {

using std::chrono::milliseconds;

TEST(ConfDuration, ParsesGoStyleDurations) {
  EXPECT_EQ(parse_duration("1m"), milliseconds(60'000));
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("2m3.5s"), milliseconds(123'500));
  EXPECT_EQ(parse_duration("1m0s"), milliseconds(60'000));
  EXPECT_EQ(parse_duration("1.5h"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration(".5s"), milliseconds(500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("-1m"), milliseconds(-60'000));
  EXPECT_EQ(parse_duration("+2s"), milliseconds(2'000));
  EXPECT_EQ(parse_duration("1500us"), milliseconds(1));  // truncated to ms
  EXPECT_EQ(parse_duration("2000000ns"), milliseconds(2));
  EXPECT_EQ(parse_duration("3\u00b5s"), milliseconds(0));
}

TEST(ConfDuration, RejectsMalformedDurations) {
  for (const char* bad : {"", "1", "30", "m", "1x", "1.s.", "abc", "1m 30s", "-", ".s", "1mm", "99999999999h"})
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
}

TEST(ConfDuration, ErrorNamesTheText) {
  try {
    parse_duration("5 minutes");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"5 minutes\""), std::string::npos) << e.what();
  }
}

TEST(ConfDuration, FormatsShortestForm) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(format_duration(milliseconds(1'000)), "1s");
  EXPECT_EQ(format_duration(milliseconds(60'000)), "1m");
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(123'500)), "2m3.5s");
  EXPECT_EQ(format_duration(milliseconds(3'600'005)), "1h0.005s");
  EXPECT_EQ(format_duration(milliseconds(-1'500)), "-1.5s");
}

TEST(ConfDuration, FormatThenParseGivesTheSameValue) {
  for (long long ms : {0LL, 1LL, 999LL, 1'000LL, 1'001LL, 59'999LL, 60'000LL, 61'010LL, 3'599'999LL, 3'600'000LL,
                       86'400'000LL, 90'061'001LL, -7LL, -3'600'001LL, 9'223'372'036'854LL}) {
    std::string text = format_duration(milliseconds(ms));
    EXPECT_EQ(parse_duration(text), milliseconds(ms)) << text;
  }
}

}  // namespace
}  // namespace crius::conf
