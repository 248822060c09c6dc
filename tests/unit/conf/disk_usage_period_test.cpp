// runtime.disk_usage_period: how often the writable layers behind the stats
// List RPCs are walked again.
#include "conf/print.h"
#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

using ConfDiskUsagePeriod = ConfFixture;

TEST_F(ConfDiskUsagePeriod, DefaultsToTenSeconds) {
  EXPECT_EQ(load_with().runtime.disk_usage_period, std::chrono::seconds(10));
}

TEST_F(ConfDiskUsagePeriod, SetByFileOrFlagAndPrinted) {
  write(main_, "runtime:\n  disk_usage_period: 2s\n");
  EXPECT_EQ(load_with().runtime.disk_usage_period, std::chrono::seconds(2));
  const Config c = load_with({"--runtime-disk-usage-period=0s"});
  EXPECT_EQ(c.runtime.disk_usage_period, std::chrono::milliseconds(0));
  EXPECT_EQ(to_json(c)["runtime"]["disk_usage_period"], "0s");
}

TEST_F(ConfDiskUsagePeriod, MustNotBeNegative) {
  EXPECT_EQ(error({"--runtime-disk-usage-period=-1s"}),
            "--runtime-disk-usage-period: runtime.disk_usage_period: must not be negative, got \"-1s\"");
}

}  // namespace
}  // namespace crius::conf
