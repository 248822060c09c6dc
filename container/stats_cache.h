// What the stats List RPCs and pod metrics answer from. The cgroup figures
// are read on every call: a few small kernel files per container, and
// clients compare two calls a second apart (crictl stats fails when the CPU
// sample has not moved). The writable layer's usage is the slow part, a walk
// of every file in it, so it comes from a sample renewed in the background
// once a period for as long as somebody asks (kubelet does every 10-15 s),
// and left alone when nobody does. A List over many containers then reads
// each cgroup once and never waits on a deep writable layer: only a
// container with no layer sample yet, or the first List after a quiet spell,
// walks inline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "container/stats.h"

namespace crius::container {

class StatsCache {
 public:
  // Where samples come from; the server wires these to the store and the
  // sampler, tests to fakes.
  struct Source {
    std::function<std::vector<Record>()> list;  // every container now
    std::function<ContainerUsage(const Record&)> cgroup;  // without the writable layer
    std::function<std::optional<WritableLayer>(const Record&)> layer;
    std::function<PodUsage(const sandbox::Record&, std::vector<ContainerUsage>)> pod;  // keeps the containers
    std::function<std::chrono::milliseconds()> period;  // <= 0: every call walks the layers
  };

  // One List call: whether old layer samples may be answered is decided
  // once, at its start, so that its own demand does not count.
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
  // The pod's own figures over its containers' samples, read now.
  PodUsage pod(const Pass&, const sandbox::Record&, const std::vector<Record>& containers);

  // A quiet spell this long stops the refresh.
  static std::chrono::milliseconds idle_after(std::chrono::milliseconds period);

 private:
  struct LayerSample {
    int64_t at = 0;  // now_ns() when walked
    std::optional<WritableLayer> layer;
  };

  bool usable(const Pass&, int64_t sampled_at) const;
  bool refreshing(int64_t now) const;  // with mu_ held
  void run();
  void refresh();

  Source source_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t last_demand_ = 0;  // now_ns() of the last List, 0: none yet
  std::map<std::string, LayerSample> layers_;  // by container ID
  std::thread thread_;
};

}  // namespace crius::container
