// Prometheus metrics of the daemon, rendered in the text exposition format
// (version 0.0.4). Debian ships no prometheus-cpp, and the few families crius
// exports need only counters and fixed-bucket histograms.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace crius::metrics {

class Registry {
 public:
  explicit Registry(std::string version);

  // One finished RPC: counts it, its error code unless "OK", and its latency.
  void observe_operation(std::string_view operation, std::string_view code, double seconds);

  // Image pulls: one finished pull ("success" or "failure") and its duration,
  // bytes received from registries, layers found already present.
  void observe_image_pull(std::string_view result, double seconds);
  void add_image_pull_bytes(uint64_t n);
  void add_image_layer_reuse();

  std::string render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts are computed at render time
    uint64_t count = 0;
    double sum = 0;
  };

  std::string version_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> operations_;
  std::map<std::pair<std::string, std::string>, uint64_t> errors_;
  std::map<std::string, Histogram, std::less<>> latency_;
  std::map<std::string, uint64_t, std::less<>> image_pulls_;
  uint64_t image_pull_bytes_ = 0;
  uint64_t image_layer_reuse_ = 0;
  Histogram image_pull_duration_;
};

// Escapes a label value per the exposition format (backslash, quote, newline).
std::string escape_label(std::string_view v);

}  // namespace crius::metrics
