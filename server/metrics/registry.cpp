#include "server/metrics/registry.h"

#include <array>
#include <charconv>

#include "server/metrics/process.h"

namespace crius::metrics {
namespace {

// Upper bounds in seconds: from a fast List call to a long image pull.
constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  10,   60};
// Upper bounds in seconds for a whole image pull.
constexpr std::array<double, 11> kPullBounds = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
// Upper bounds in seconds for one CNI plugin chain run.
constexpr std::array<double, 11> kCniBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30};

// Shortest fixed-point text that reads back as the same double ("0.0005",
// not 0.00050000000000000001 or 5e-04).
std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, end);
}

Registry::Histogram histogram(std::span<const double> bounds) { return {bounds, std::vector<uint64_t>(bounds.size())}; }

void head(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// `name{label="value"} n` lines of a family with one label.
template <class Map>
void by_label(std::string& out, std::string_view name, std::string_view label, const Map& values) {
  for (const auto& [value, n] : values)
    out.append(name).append("{").append(label).append("=\"").append(escape_label(value)).append("\"} ")
        .append(std::to_string(n)).append("\n");
}

// The _bucket (cumulative, ending in le="+Inf"), _sum and _count lines of
// one histogram; `labels` ("operation=\"Stop\"") may be empty.
void series(std::string& out, std::string_view name, const std::string& labels, const Registry::Histogram& h) {
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.buckets[i];
    out.append(name).append("_bucket{").append(sep).append("le=\"").append(number(h.bounds[i])).append("\"} ")
        .append(std::to_string(cumulative)).append("\n");
  }
  out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(std::to_string(h.count)).append("\n");
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out.append(name).append("_sum").append(braces).append(" ").append(number(h.sum)).append("\n");
  out.append(name).append("_count").append(braces).append(" ").append(std::to_string(h.count)).append("\n");
}

template <class Map>
void count(Map& m, std::string_view key) {
  auto it = m.find(key);
  if (it == m.end()) it = m.emplace(std::string(key), 0).first;
  ++it->second;
}

}  // namespace

void Registry::Histogram::observe(double v) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (v <= bounds[i]) {
      ++buckets[i];
      break;
    }
  ++count;
  sum += v;
}

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

Registry::Registry(std::string version) : version_(std::move(version)), image_pull_duration_(histogram(kPullBounds)) {}

void Registry::observe_image_pull(std::string_view result, double seconds) {
  std::lock_guard lock(mu_);
  count(image_pulls_, result);
  image_pull_duration_.observe(seconds);
}

void Registry::add_image_pull_bytes(uint64_t n) {
  std::lock_guard lock(mu_);
  image_pull_bytes_ += n;
}

void Registry::add_image_layer_reuse() {
  std::lock_guard lock(mu_);
  ++image_layer_reuse_;
}

void Registry::add_container_events_dropped() {
  std::lock_guard lock(mu_);
  ++container_events_dropped_;
}

void Registry::add_container_exit(std::string_view reason) {
  std::lock_guard lock(mu_);
  count(container_exits_, reason);
}

void Registry::observe_cni(std::string_view operation, double seconds) {
  std::lock_guard lock(mu_);
  auto h = cni_duration_.find(operation);
  if (h == cni_duration_.end()) h = cni_duration_.emplace(std::string(operation), histogram(kCniBounds)).first;
  h->second.observe(seconds);
}

void Registry::set_gauges(std::function<Gauges()> source) {
  std::lock_guard lock(mu_);
  gauges_ = std::move(source);
}

void Registry::observe_operation(std::string_view operation, std::string_view code, double seconds) {
  std::lock_guard lock(mu_);
  count(operations_, operation);
  if (code != "OK") ++errors_[{std::string(operation), std::string(code)}];
  auto h = latency_.find(operation);
  if (h == latency_.end()) h = latency_.emplace(std::string(operation), histogram(kBounds)).first;
  h->second.observe(seconds);
}

std::string Registry::render() const {
  std::string out;
  head(out, "crius_build_info", "gauge", "Build information of the running crius.");
  out += "crius_build_info{version=\"" + escape_label(version_) + "\"} 1\n";

  std::function<Gauges()> source;
  {
    std::lock_guard lock(mu_);
    source = gauges_;
  }
  if (source) {
    const Gauges g = source();
    head(out, "crius_pods", "gauge", "Pod sandboxes, by state (ready or notready).");
    by_label(out, "crius_pods", "state", g.pods);
    head(out, "crius_containers", "gauge", "Containers, by state (created, running, exited or unknown).");
    by_label(out, "crius_containers", "state", g.containers);
    head(out, "crius_monitors", "gauge", "Pods whose crius-monitor is running.");
    out += "crius_monitors " + std::to_string(g.monitors) + "\n";
    head(out, "crius_streaming_sessions", "gauge", "Exec, attach and port-forward sessions open now, by kind.");
    by_label(out, "crius_streaming_sessions", "kind", g.streaming_sessions);
  }

  std::lock_guard lock(mu_);
  head(out, "crius_operations_total", "counter", "CRI operations served, by RPC.");
  by_label(out, "crius_operations_total", "operation", operations_);
  head(out, "crius_operations_errors_total", "counter", "CRI operations that failed, by RPC and gRPC status code.");
  for (const auto& [key, n] : errors_)
    out += "crius_operations_errors_total{operation=\"" + escape_label(key.first) + "\",code=\"" +
           escape_label(key.second) + "\"} " + std::to_string(n) + "\n";
  head(out, "crius_operations_latency_seconds", "histogram", "Time to serve a CRI operation, by RPC.");
  for (const auto& [op, h] : latency_)
    series(out, "crius_operations_latency_seconds", "operation=\"" + escape_label(op) + "\"", h);

  head(out, "crius_image_pulls_total", "counter", "Image pulls finished, by result (success or failure).");
  by_label(out, "crius_image_pulls_total", "result", image_pulls_);
  head(out, "crius_image_pull_bytes_total", "counter", "Bytes of blobs received from registries.");
  out += "crius_image_pull_bytes_total " + std::to_string(image_pull_bytes_) + "\n";
  head(out, "crius_image_layer_reuse_total", "counter", "Layers a pull found already present and did not fetch.");
  out += "crius_image_layer_reuse_total " + std::to_string(image_layer_reuse_) + "\n";
  head(out, "crius_image_pull_duration_seconds", "histogram", "Time to pull an image.");
  series(out, "crius_image_pull_duration_seconds", "", image_pull_duration_);

  head(out, "crius_container_exits_total", "counter",
       "Containers that exited, by reason (Completed, Error, OOMKilled).");
  by_label(out, "crius_container_exits_total", "reason", container_exits_);
  head(out, "crius_container_events_dropped_total", "counter",
       "GetContainerEvents subscribers ended for falling behind.");
  out += "crius_container_events_dropped_total " + std::to_string(container_events_dropped_) + "\n";
  head(out, "crius_cni_operation_duration_seconds", "histogram",
       "Time a CNI plugin chain took, by operation (ADD, DEL, CHECK).");
  for (const auto& [op, h] : cni_duration_)
    series(out, "crius_cni_operation_duration_seconds", "operation=\"" + escape_label(op) + "\"", h);

  out += render_process_metrics();
  return out;
}

}  // namespace crius::metrics
