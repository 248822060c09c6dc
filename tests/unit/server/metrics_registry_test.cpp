#include <gtest/gtest.h>

#include "server/metrics/registry.h"

namespace crius::metrics {
namespace {

TEST(MetricsRegistry, BuildInfoIsAlwaysThere) {
  Registry r("1.2.3");
  EXPECT_NE(r.render().find("crius_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, CountsOperationsAndOnlyFailuresAsErrors) {
  Registry r("0");
  r.observe_operation("Version", "OK", 0.0001);
  r.observe_operation("Version", "OK", 0.0001);
  r.observe_operation("PullImage", "NotFound", 0.3);
  const std::string text = r.render();
  EXPECT_NE(text.find("crius_operations_total{operation=\"Version\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("crius_operations_total{operation=\"PullImage\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("crius_operations_errors_total{operation=\"PullImage\",code=\"NotFound\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("crius_operations_errors_total{operation=\"Version\""), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE crius_operations_latency_seconds histogram\n"), std::string::npos);
}

TEST(MetricsRegistry, HistogramBucketsAreCumulative) {
  Registry r("0");
  r.observe_operation("Stop", "OK", 0.0004);  // first bucket
  r.observe_operation("Stop", "OK", 0.3);     // le=0.5
  r.observe_operation("Stop", "OK", 100);     // only +Inf
  const std::string text = r.render();
  EXPECT_NE(text.find("crius_operations_latency_seconds_bucket{operation=\"Stop\",le=\"0.0005\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("crius_operations_latency_seconds_bucket{operation=\"Stop\",le=\"0.25\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("crius_operations_latency_seconds_bucket{operation=\"Stop\",le=\"0.5\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("crius_operations_latency_seconds_bucket{operation=\"Stop\",le=\"60\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("crius_operations_latency_seconds_bucket{operation=\"Stop\",le=\"+Inf\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("crius_operations_latency_seconds_count{operation=\"Stop\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("crius_operations_latency_seconds_sum{operation=\"Stop\"} 100.3004"), std::string::npos) << text;
}

TEST(MetricsRegistry, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace crius::metrics
