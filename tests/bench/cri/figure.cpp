#include "tests/bench/cri/figure.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace crius::bench {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void Series::fail(const std::string& step, const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) unimplemented = true;
  else ++failed;
  last_error = step + ": " + s.error_message();
}

void print_figure(const Figure& f) {
  auto row = [&](const char* name, const Series& s) {
    if (s.unimplemented && s.v.empty()) {
      std::printf("  %-11s %10s %10s %5s  (%s)\n", name, "unimpl.", "-", "0", s.last_error.c_str());
      return;
    }
    if (s.v.empty() && !s.failed) {
      std::printf("  %-11s %10s %10s %5s  (no sample)\n", name, "-", "-", "0");
      return;
    }
    std::printf("  %-11s %10.2f %10.2f %5zu", name, percentile(s.v, 50), percentile(s.v, 90), s.v.size());
    if (s.failed) std::printf("  failed %d (last: %s)", s.failed, s.last_error.c_str());
    std::printf("\n");
  };
  std::printf("%s\n  %-11s %10s %10s %5s\n", f.title.c_str(), "runtime", ("median " + f.unit).c_str(),
              ("p90 " + f.unit).c_str(), "n");
  row(f.first.c_str(), f.crius);
  row(f.second.c_str(), f.containerd);
  if (!f.crius.v.empty() && !f.containerd.v.empty())
    std::printf("  ratio %s/%s (medians): %.2f\n", f.first.c_str(), f.second.c_str(),
                percentile(f.crius.v, 50) / percentile(f.containerd.v, 50));
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace crius::bench
