#include "server/metrics/registry.h"

#include <array>
#include <charconv>

namespace crius::metrics {
namespace {

// Upper bounds in seconds: from a fast List call to a long image pull.
constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  10,   60};

// Shortest fixed-point text that reads back as the same double ("0.0005",
// not 0.00050000000000000001 or 5e-04).
std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, end);
}

// Upper bounds in seconds for a whole image pull.
constexpr std::array<double, 11> kPullBounds = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Registry::Registry(std::string version) : version_(std::move(version)) {
  image_pull_duration_.buckets.assign(kPullBounds.size(), 0);
}

void Registry::observe_image_pull(std::string_view result, double seconds) {
  std::lock_guard lock(mu_);
  auto it = image_pulls_.find(result);
  if (it == image_pulls_.end()) it = image_pulls_.emplace(std::string(result), 0).first;
  ++it->second;
  for (size_t i = 0; i < kPullBounds.size(); ++i)
    if (seconds <= kPullBounds[i]) {
      ++image_pull_duration_.buckets[i];
      break;
    }
  ++image_pull_duration_.count;
  image_pull_duration_.sum += seconds;
}

void Registry::add_image_pull_bytes(uint64_t n) {
  std::lock_guard lock(mu_);
  image_pull_bytes_ += n;
}

void Registry::add_image_layer_reuse() {
  std::lock_guard lock(mu_);
  ++image_layer_reuse_;
}

void Registry::observe_operation(std::string_view operation, std::string_view code, double seconds) {
  std::lock_guard lock(mu_);
  auto op = operations_.find(operation);
  if (op == operations_.end()) op = operations_.emplace(std::string(operation), 0).first;
  ++op->second;
  if (code != "OK") ++errors_[{std::string(operation), std::string(code)}];
  auto h = latency_.find(operation);
  if (h == latency_.end()) {
    h = latency_.emplace(std::string(operation), Histogram{}).first;
    h->second.buckets.assign(kBounds.size(), 0);
  }
  for (size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) {
      ++h->second.buckets[i];
      break;
    }
  ++h->second.count;
  h->second.sum += seconds;
}

std::string Registry::render() const {
  std::string out;
  out += "# HELP crius_build_info Build information of the running crius.\n";
  out += "# TYPE crius_build_info gauge\n";
  out += "crius_build_info{version=\"" + escape_label(version_) + "\"} 1\n";

  std::lock_guard lock(mu_);
  out += "# HELP crius_operations_total CRI operations served, by RPC.\n";
  out += "# TYPE crius_operations_total counter\n";
  for (const auto& [op, n] : operations_)
    out += "crius_operations_total{operation=\"" + escape_label(op) + "\"} " + std::to_string(n) + "\n";

  out += "# HELP crius_operations_errors_total CRI operations that failed, by RPC and gRPC status code.\n";
  out += "# TYPE crius_operations_errors_total counter\n";
  for (const auto& [key, n] : errors_)
    out += "crius_operations_errors_total{operation=\"" + escape_label(key.first) + "\",code=\"" +
           escape_label(key.second) + "\"} " + std::to_string(n) + "\n";

  out += "# HELP crius_operations_latency_seconds Time to serve a CRI operation, by RPC.\n";
  out += "# TYPE crius_operations_latency_seconds histogram\n";
  for (const auto& [op, h] : latency_) {
    const std::string label = "operation=\"" + escape_label(op) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
      cumulative += h.buckets[i];
      out += "crius_operations_latency_seconds_bucket{" + label + ",le=\"" + number(kBounds[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "crius_operations_latency_seconds_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "crius_operations_latency_seconds_sum{" + label + "} " + number(h.sum) + "\n";
    out += "crius_operations_latency_seconds_count{" + label + "} " + std::to_string(h.count) + "\n";
  }

  out += "# HELP crius_image_pulls_total Image pulls finished, by result (success or failure).\n";
  out += "# TYPE crius_image_pulls_total counter\n";
  for (const auto& [result, n] : image_pulls_)
    out += "crius_image_pulls_total{result=\"" + escape_label(result) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP crius_image_pull_bytes_total Bytes of blobs received from registries.\n";
  out += "# TYPE crius_image_pull_bytes_total counter\n";
  out += "crius_image_pull_bytes_total " + std::to_string(image_pull_bytes_) + "\n";
  out += "# HELP crius_image_layer_reuse_total Layers a pull found already present and did not fetch.\n";
  out += "# TYPE crius_image_layer_reuse_total counter\n";
  out += "crius_image_layer_reuse_total " + std::to_string(image_layer_reuse_) + "\n";
  out += "# HELP crius_image_pull_duration_seconds Time to pull an image.\n";
  out += "# TYPE crius_image_pull_duration_seconds histogram\n";
  {
    const auto& h = image_pull_duration_;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kPullBounds.size(); ++i) {
      cumulative += h.buckets[i];
      out += "crius_image_pull_duration_seconds_bucket{le=\"" + number(kPullBounds[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "crius_image_pull_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "crius_image_pull_duration_seconds_sum " + number(h.sum) + "\n";
    out += "crius_image_pull_duration_seconds_count " + std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace crius::metrics
