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
};

// Escapes a label value per the exposition format (backslash, quote, newline).
std::string escape_label(std::string_view v);

}  // namespace crius::metrics
