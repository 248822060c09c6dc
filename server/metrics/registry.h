// Prometheus metrics of the daemon, rendered in the text exposition format
// (version 0.0.4). Debian ships no prometheus-cpp, and the few families crius
// exports need only counters, gauges and fixed-bucket histograms.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crius::metrics {

// What the daemon holds now, gathered at scrape time.
struct Gauges {
  std::map<std::string, uint64_t> pods;        // by state: "ready", "notready"
  std::map<std::string, uint64_t> containers;  // by state: "created", "running", "exited", "unknown"
  uint64_t monitors = 0;                       // pods with a running crius-monitor
  std::map<std::string, uint64_t> streaming_sessions;  // by kind: "exec", "attach", "portforward"
};

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
  // A GetContainerEvents subscriber ended because it fell too far behind.
  void add_container_events_dropped();
  // A container's exit, by its CRI reason ("Completed", "Error", "OOMKilled").
  void add_container_exit(std::string_view reason);
  // One CNI plugin operation ("ADD", "DEL", "CHECK") and how long it took.
  void observe_cni(std::string_view operation, double seconds);
  // Where the gauges come from (called at each scrape, without the registry's lock).
  void set_gauges(std::function<Gauges()> source);

  std::string render() const;

  struct Histogram {
    std::span<const double> bounds;
    std::vector<uint64_t> buckets;  // per bound, not cumulative; cumulated at render time
    uint64_t count = 0;
    double sum = 0;
    void observe(double v);
  };

 private:
  std::string version_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> operations_;
  std::map<std::pair<std::string, std::string>, uint64_t> errors_;
  std::map<std::string, Histogram, std::less<>> latency_;
  std::map<std::string, uint64_t, std::less<>> image_pulls_;
  uint64_t image_pull_bytes_ = 0;
  uint64_t image_layer_reuse_ = 0;
  uint64_t container_events_dropped_ = 0;
  std::map<std::string, uint64_t, std::less<>> container_exits_;
  Histogram image_pull_duration_;
  std::map<std::string, Histogram, std::less<>> cni_duration_;
  std::function<Gauges()> gauges_;
};

// Escapes a label value per the exposition format (backslash, quote, newline).
std::string escape_label(std::string_view v);

}  // namespace crius::metrics
