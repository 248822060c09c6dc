// The stats cache over a fake source that counts what it reads: every List
// reads each cgroup once, later Lists answer the writable layers from the
// last walk, the background refresh keeps those new, and a List does not
// wait on a walk that blocks.
#include "container/stats_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>

#include "base/clock.h"
#include "tests/support/eventually.h"

namespace crius::container {
namespace {

using std::chrono::milliseconds;

Record container_record(const std::string& id, const std::string& pod) {
  Record r;
  r.id = id;
  r.pod_id = pod;
  return r;
}

sandbox::Record pod_record(const std::string& id) {
  sandbox::Record p;
  p.id = id;
  return p;
}

// Counts samples per ID; a sample of `blocked` waits until released.
class FakeSource {
 public:
  std::vector<Record> containers = {container_record("a", "p"), container_record("b", "p"),
                                    container_record("c", "q")};
  std::vector<sandbox::Record> pods = {pod_record("p"), pod_record("q")};
  std::atomic<int64_t> period_ms{60'000};

  StatsCache::Source source() {
    return {
        .list =
            [this] {
              std::lock_guard lock(mu_);
              return containers;
            },
        .cgroup =
            [this](const Record& r) {
              std::lock_guard lock(mu_);
              ContainerUsage u;
              u.at = now_ns();
              u.cgroup = CgroupUsage{};
              u.cgroup->stats.cpu.total_ns = static_cast<uint64_t>(++samples_[r.id]);  // which read this is
              return u;
            },
        .layer =
            [this](const Record& r) {
              wait_if_blocked(r.id);
              std::lock_guard lock(mu_);
              WritableLayer l;
              l.bytes = static_cast<uint64_t>(++samples_["layer:" + r.id]);  // which walk this is
              return std::optional<WritableLayer>(l);
            },
        .pod =
            [this](const sandbox::Record& p, std::vector<ContainerUsage> cs) {
              std::lock_guard lock(mu_);
              ++samples_["pod:" + p.id];
              PodUsage u;
              u.at = now_ns();
              u.containers = std::move(cs);
              return u;
            },
        .period = [this] { return milliseconds(period_ms.load()); },
    };
  }

  int samples(const std::string& key) {
    std::lock_guard lock(mu_);
    return samples_[key];
  }
  void block(const std::string& id) {
    std::lock_guard lock(mu_);
    blocked_ = id;
  }
  // What the refresh lists from now on (the test thread's own List uses
  // `containers` too, so it only changes under the lock the refresh takes).
  Record remove_last() {
    std::lock_guard lock(mu_);
    Record r = containers.back();
    containers.pop_back();
    return r;
  }
  void release() {
    std::lock_guard lock(mu_);
    blocked_.clear();
    cv_.notify_all();
  }
  bool someone_blocked() {
    std::lock_guard lock(mu_);
    return waiting_ > 0;
  }

 private:
  void wait_if_blocked(const std::string& id) {
    std::unique_lock lock(mu_);
    if (blocked_ != id) return;
    ++waiting_;
    cv_.wait(lock, [&] { return blocked_ != id; });
    --waiting_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> samples_;
  std::string blocked_;
  int waiting_ = 0;
};

// A List over every container, as ListContainerStats makes it: which
// cgroup read and which layer walk each answer came from.
struct Answer {
  uint64_t cgroup = 0, layer = 0;
  bool operator==(const Answer&) const = default;
};
std::map<std::string, Answer> list(StatsCache& cache, FakeSource& fake) {
  const auto pass = cache.begin();
  std::map<std::string, Answer> out;
  for (const auto& r : fake.containers) {
    const ContainerUsage u = cache.container(pass, r);
    out[r.id] = {u.cgroup->stats.cpu.total_ns, u.writable_layer->bytes};
  }
  return out;
}

TEST(StatsCache, EveryListReadsEachCgroupOnceAndWalksLayersOnlyWhenStale) {
  FakeSource fake;
  StatsCache cache(fake.source());
  EXPECT_EQ(list(cache, fake), (std::map<std::string, Answer>{{"a", {1, 1}}, {"b", {1, 1}}, {"c", {1, 1}}}));
  // The next List reads the cgroups again (the CPU figure moves, as crictl
  // stats needs) but answers the layers from the walk before.
  EXPECT_EQ(list(cache, fake), (std::map<std::string, Answer>{{"a", {2, 1}}, {"b", {2, 1}}, {"c", {2, 1}}}));

  // A pod List reads each of its containers once, and its own figures once.
  const PodUsage p = cache.pod(cache.begin(), fake.pods[0], {fake.containers[0], fake.containers[1]});
  ASSERT_EQ(p.containers.size(), 2u);
  EXPECT_EQ(fake.samples("a"), 3);
  EXPECT_EQ(fake.samples("layer:a"), 1);
  EXPECT_EQ(fake.samples("pod:p"), 1);
}

TEST(StatsCache, TheRefreshWalksTheLayersAgainWhileListsCome) {
  FakeSource fake;
  fake.period_ms = 20;
  StatsCache cache(fake.source());
  list(cache, fake);
  EXPECT_TRUE(crius::testing::eventually([&] { return list(cache, fake).at("c").layer >= 3; }));
  EXPECT_GE(fake.samples("layer:a"), 3);
}

TEST(StatsCache, AListDoesNotWaitOnAWalkThatBlocks) {
  FakeSource fake;
  fake.period_ms = 20;
  StatsCache cache(fake.source());
  list(cache, fake);
  fake.block("b");
  ASSERT_TRUE(crius::testing::eventually([&] {
    list(cache, fake);  // keeps the refresh going
    return fake.someone_blocked();
  }));
  // The refresh is stuck on b's layer; a List still answers, with b's cgroup
  // read now and its layer from the last walk.
  auto answered = std::async(std::launch::async, [&] { return list(cache, fake); });
  const bool done = answered.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  fake.release();
  ASSERT_TRUE(done) << "the List waited on the blocked walk";
  const Answer b = answered.get().at("b");
  EXPECT_EQ(b.cgroup, static_cast<uint64_t>(fake.samples("b")));
  EXPECT_GE(b.layer, 1u);
}

TEST(StatsCache, PeriodZeroWalksOnEveryCall) {
  FakeSource fake;
  fake.period_ms = 0;
  StatsCache cache(fake.source());
  list(cache, fake);
  list(cache, fake);
  EXPECT_EQ(fake.samples("layer:a"), 2);
  EXPECT_EQ(fake.samples("a"), 2);
}

TEST(StatsCache, WhatIsGoneIsForgottenByTheRefresh) {
  FakeSource fake;
  fake.period_ms = 20;
  StatsCache cache(fake.source());
  list(cache, fake);
  const Record gone = fake.remove_last();
  const int before = fake.samples("layer:c");
  EXPECT_TRUE(crius::testing::eventually([&] {
    list(cache, fake);
    return fake.samples("layer:a") >= before + 2;
  }));
  // c was not walked by the refresh any more (a refresh that listed it
  // before it went may have); asked for again, it is walked anew.
  EXPECT_LE(fake.samples("layer:c"), before + 1);
  const int now = fake.samples("layer:c");
  EXPECT_EQ(cache.container(cache.begin(), gone).writable_layer->bytes, static_cast<uint64_t>(now + 1));
}

}  // namespace
}  // namespace crius::container
