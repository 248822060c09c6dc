// What the stats List RPCs answer from: the last sample of every container
// and pod, refreshed in the background once a period for as long as somebody
// lists (kubelet does every 10-15 s), and left alone when nobody does. A List
// over many containers then reads no cgroup and never waits on a slow one (a
// deep writable layer, a cgroup file that blocks): it answers what the last
// refresh found. Only what has no sample yet, or the first List after a quiet
// spell, samples inline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "container/stats.h"

namespace crius::container {

class StatsCache {
 public:
  // Where samples come from; the server wires these to the stores and the
  // sampler, tests to fakes.
  struct Source {
    std::function<std::pair<std::vector<Record>, std::vector<sandbox::Record>>()> list;  // everything now
    std::function<ContainerUsage(const Record&)> container;
    std::function<PodUsage(const sandbox::Record&, std::vector<ContainerUsage>)> pod;  // keeps the containers
    std::function<std::chrono::milliseconds()> period;  // <= 0: no cache, every call samples
  };

  // One List call: whether old samples may be answered is decided once, at
  // its start, so that its own demand does not count.
  struct Pass {
    std::chrono::milliseconds period{0};
    bool refreshing = false;  // the background refresh was running before this call
  };

  explicit StatsCache(Source source);
  ~StatsCache();
  StatsCache(const StatsCache&) = delete;
  StatsCache& operator=(const StatsCache&) = delete;

  // Marks demand (waking the refresh) and starts a List call.
  Pass begin();
  ContainerUsage container(const Pass&, const Record&);
  PodUsage pod(const Pass&, const sandbox::Record&, const std::vector<Record>& containers);

  // A quiet spell this long stops the refresh.
  static std::chrono::milliseconds idle_after(std::chrono::milliseconds period);

 private:
  bool usable(const Pass&, int64_t sampled_at) const;
  bool refreshing(int64_t now) const;  // with mu_ held
  void run();
  void refresh();

  Source source_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t last_demand_ = 0;  // now_ns() of the last List, 0: none yet
  std::map<std::string, ContainerUsage> containers_;
  std::map<std::string, PodUsage> pods_;  // the pod's own figures, without its containers
  std::thread thread_;
};

}  // namespace crius::container
