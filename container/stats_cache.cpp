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

// While the refresh runs, any sample is answered, however late the refresh
// is with it (that is the point: a slow cgroup delays the refresh, not the
// List). Otherwise only one younger than two periods.
bool StatsCache::usable(const Pass& pass, int64_t sampled_at) const {
  return pass.refreshing || now_ns() - sampled_at <= 2 * ns(pass.period);
}

ContainerUsage StatsCache::container(const Pass& pass, const Record& r) {
  if (pass.period.count() <= 0) return source_.container(r);
  {
    std::lock_guard lock(mu_);
    if (auto it = containers_.find(r.id); it != containers_.end() && usable(pass, it->second.at)) return it->second;
  }
  ContainerUsage u = source_.container(r);
  std::lock_guard lock(mu_);
  containers_[r.id] = u;
  return u;
}

PodUsage StatsCache::pod(const Pass& pass, const sandbox::Record& pod, const std::vector<Record>& containers) {
  std::vector<ContainerUsage> samples;
  for (const auto& c : containers) samples.push_back(container(pass, c));
  if (pass.period.count() <= 0) return source_.pod(pod, std::move(samples));
  {
    std::lock_guard lock(mu_);
    if (auto it = pods_.find(pod.id); it != pods_.end() && usable(pass, it->second.at)) {
      PodUsage u = it->second;
      u.containers = std::move(samples);
      return u;
    }
  }
  PodUsage u = source_.pod(pod, std::move(samples));
  PodUsage own = u;
  own.containers.clear();
  std::lock_guard lock(mu_);
  pods_[pod.id] = std::move(own);
  return u;
}

// Sleeps until somebody lists, then refreshes once a period until a quiet
// spell; the first refresh comes a period after the List that woke it, which
// sampled inline itself.
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
      log::warn("refreshing stats samples", {{"error", e.what()}});
    }
    lock.lock();
  }
}

// Every container once, then every pod over its containers' new samples, so
// that no cgroup is read twice in a refresh; what is gone is forgotten.
void StatsCache::refresh() {
  auto [containers, pods] = source_.list();
  std::map<std::string, std::vector<ContainerUsage>> by_pod;
  std::set<std::string> live_containers, live_pods;
  for (const auto& c : containers) {
    ContainerUsage u = source_.container(c);
    live_containers.insert(c.id);
    by_pod[c.pod_id].push_back(u);
    std::lock_guard lock(mu_);
    containers_[c.id] = std::move(u);
  }
  for (const auto& p : pods) {
    PodUsage u = source_.pod(p, std::move(by_pod[p.id]));
    u.containers.clear();
    live_pods.insert(p.id);
    std::lock_guard lock(mu_);
    pods_[p.id] = std::move(u);
  }
  std::lock_guard lock(mu_);
  std::erase_if(containers_, [&](const auto& kv) { return !live_containers.count(kv.first); });
  std::erase_if(pods_, [&](const auto& kv) { return !live_pods.count(kv.first); });
}

}  // namespace crius::container
