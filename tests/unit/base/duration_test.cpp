// Go-style durations as base parses them (conf's keys and runc's flags).
#include <gtest/gtest.h>

#include <stdexcept>

#include "base/duration.h"

namespace crius {
namespace {
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(Duration, NanosecondPrecisionSignsAndUnits) {
  EXPECT_EQ(parse_duration("1500us"), nanoseconds(1'500'000));
  EXPECT_EQ(parse_duration("1.5s"), nanoseconds(1'500'000'000));
  EXPECT_EQ(parse_duration("-2m"), nanoseconds(-120'000'000'000));
  EXPECT_EQ(parse_duration("3\u00b5s"), nanoseconds(3'000));
  EXPECT_EQ(parse_duration("0"), nanoseconds(0));
  for (const char* bad : {"", "5", "1x", "s", "9999999999h", "1..5s"})
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
  EXPECT_EQ(format_duration(milliseconds(90'500)), "1m30.5s");
}

}  // namespace
}  // namespace crius
