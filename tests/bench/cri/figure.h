// How bench_cri's figures are kept and printed: each runtime's samples of
// one figure, with its failures, as a table of median and p90 and the ratio
// of the two medians.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

namespace crius::bench {

// Milliseconds from t to now.
inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// The p-th percentile (nearest rank) of `v`; 0 when empty.
double percentile(std::vector<double> v, double p);

// One figure's samples for one runtime.
struct Series {
  std::vector<double> v;
  int failed = 0;
  bool unimplemented = false;
  std::string last_error;
  void fail(const std::string& step, const grpc::Status& s);
};

struct Figure {
  std::string title, unit;
  Series crius, containerd;
  // Row names: the two series compared (crius against itself in figure 6).
  std::string first = "crius", second = "containerd";
};

void print_figure(const Figure& f);

}  // namespace crius::bench
