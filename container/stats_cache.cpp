#include "container/stats_cache.h"

#include <algorithm>
#include <set>

#include "base/clock.h"
#include "base/log.h"

namespace crius::container {

namespace {

int64_t ns(std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

}  // namespace

std::chrono::milliseconds StatsCache::idle_after(std::chrono::milliseconds period) {
  return std::max<std::chrono::milliseconds>(std::chrono::minutes(1), 6 * period);
}

StatsCache::StatsCache(Source source) : source_(std::move(source)), thread_([this] { run(); }) {}

StatsCache::~StatsCache() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool StatsCache::refreshing(int64_t now) const {
  const auto period = source_.period();
  return period.count() > 0 && last_demand_ != 0 && now - last_demand_ < ns(idle_after(period));
}

StatsCache::Pass StatsCache::begin() {
  Pass pass;
  pass.period = source_.period();
  if (pass.period.count() <= 0) return pass;
  const int64_t now = now_ns();
  {
    std::lock_guard lock(mu_);
    pass.refreshing = refreshing(now);
    last_demand_ = now;
  }
  cv_.notify_all();
  return pass;
}

// While the refresh runs, any layer sample is answered, however late the
// refresh is with it (that is the point: a deep layer delays the refresh,
// not the List). Otherwise only one younger than two periods.
bool StatsCache::usable(const Pass& pass, int64_t sampled_at) const {
  return pass.refreshing || now_ns() - sampled_at <= 2 * ns(pass.period);
}

ContainerUsage StatsCache::container(const Pass& pass, const Record& r) {
  ContainerUsage u = source_.cgroup(r);
  if (pass.period.count() <= 0) {
    u.writable_layer = source_.layer(r);
    return u;
  }
  {
    std::lock_guard lock(mu_);
    if (auto it = layers_.find(r.id); it != layers_.end() && usable(pass, it->second.at)) {
      u.writable_layer = it->second.layer;
      return u;
    }
  }
  LayerSample walked{now_ns(), source_.layer(r)};
  u.writable_layer = walked.layer;
  std::lock_guard lock(mu_);
  layers_[r.id] = std::move(walked);
  return u;
}

PodUsage StatsCache::pod(const Pass& pass, const sandbox::Record& pod, const std::vector<Record>& containers) {
  std::vector<ContainerUsage> samples;
  for (const auto& c : containers) samples.push_back(container(pass, c));
  return source_.pod(pod, std::move(samples));
}

// Sleeps until somebody lists, then walks the layers once a period until a
// quiet spell; the first walk comes a period after the List that woke it,
// which walked inline itself.
void StatsCache::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || refreshing(now_ns()); });
    if (stopping_) return;
    const auto period = std::max<std::chrono::milliseconds>(source_.period(), std::chrono::milliseconds(1));
    if (cv_.wait_for(lock, period, [&] { return stopping_; })) return;
    if (!refreshing(now_ns())) continue;
    lock.unlock();
    try {
      refresh();
    } catch (const std::exception& e) {  // the next period tries again; Lists sample what is missing
      log::warn("walking writable layers for stats", {{"error", e.what()}});
    }
    lock.lock();
  }
}

// Every container's layer once; what is gone is forgotten.
void StatsCache::refresh() {
  std::set<std::string> live;
  for (const auto& c : source_.list()) {
    LayerSample walked{now_ns(), source_.layer(c)};
    live.insert(c.id);
    std::lock_guard lock(mu_);
    layers_[c.id] = std::move(walked);
  }
  std::lock_guard lock(mu_);
  std::erase_if(layers_, [&](const auto& kv) { return !live.count(kv.first); });
}

}  // namespace crius::container
