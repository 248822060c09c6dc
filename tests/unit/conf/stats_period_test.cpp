// runtime.stats_period: how often the stats List RPCs' samples are refreshed.
#include "conf/print.h"
#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

using ConfStatsPeriod = ConfFixture;

TEST_F(ConfStatsPeriod, DefaultsToSamplingOnEveryCall) {
  EXPECT_EQ(load_with().runtime.stats_period, std::chrono::milliseconds(0));
}

TEST_F(ConfStatsPeriod, SetByFileOrFlagAndPrinted) {
  write(main_, "runtime:\n  stats_period: 2s\n");
  EXPECT_EQ(load_with().runtime.stats_period, std::chrono::seconds(2));
  const Config c = load_with({"--runtime-stats-period=10s"});
  EXPECT_EQ(c.runtime.stats_period, std::chrono::seconds(10));
  EXPECT_EQ(to_json(c)["runtime"]["stats_period"], "10s");
}

TEST_F(ConfStatsPeriod, MustNotBeNegative) {
  EXPECT_EQ(error({"--runtime-stats-period=-1s"}),
            "--runtime-stats-period: runtime.stats_period: must not be negative, got \"-1s\"");
}

}  // namespace
}  // namespace crius::conf
