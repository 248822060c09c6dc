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

Registry::Registry(std::string version) : version_(std::move(version)) {}

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
  return out;
}

}  // namespace crius::metrics
