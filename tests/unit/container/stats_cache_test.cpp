// The stats cache over a fake source that counts what it samples: a List
// reads each cgroup once, later Lists answer from the samples, the background
// refresh keeps them new, and a List does not wait on a sample that blocks.
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
              return std::pair{containers, pods};
            },
        .container =
            [this](const Record& r) {
              wait_if_blocked(r.id);
              std::lock_guard lock(mu_);
              ContainerUsage u;
              u.at = now_ns();
              u.cgroup = CgroupUsage{};
              u.cgroup->stats.cpu.total_ns = static_cast<uint64_t>(++samples_[r.id]);  // which sample this is
              return u;
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

// A List over every container, as ListContainerStats makes it.
std::map<std::string, uint64_t> list(StatsCache& cache, FakeSource& fake) {
  const auto pass = cache.begin();
  std::map<std::string, uint64_t> out;
  for (const auto& r : fake.containers) out[r.id] = cache.container(pass, r).cgroup->stats.cpu.total_ns;
  return out;
}

TEST(StatsCache, AListReadsEachCgroupOnceAndTheNextAnswersFromTheSamples) {
  FakeSource fake;
  StatsCache cache(fake.source());
  EXPECT_EQ(list(cache, fake), (std::map<std::string, uint64_t>{{"a", 1}, {"b", 1}, {"c", 1}}));
  EXPECT_EQ(list(cache, fake), (std::map<std::string, uint64_t>{{"a", 1}, {"b", 1}, {"c", 1}}));
  EXPECT_EQ(fake.samples("a"), 1);

  // A pod List reads its containers once, and its own cgroup once.
  const auto pass = cache.begin();
  const PodUsage p = cache.pod(pass, fake.pods[0], {fake.containers[0], fake.containers[1]});
  ASSERT_EQ(p.containers.size(), 2u);
  EXPECT_EQ(fake.samples("a"), 1);
  EXPECT_EQ(fake.samples("pod:p"), 1);
  cache.pod(cache.begin(), fake.pods[0], {fake.containers[0], fake.containers[1]});
  EXPECT_EQ(fake.samples("pod:p"), 1);
}

TEST(StatsCache, TheRefreshKeepsSamplesNewWhileListsCome) {
  FakeSource fake;
  fake.period_ms = 20;
  StatsCache cache(fake.source());
  list(cache, fake);
  // Lists keep coming; the refresh samples every container and pod again,
  // each pod over its containers' new samples.
  EXPECT_TRUE(crius::testing::eventually([&] { return list(cache, fake).at("c") >= 3; }));
  EXPECT_GE(fake.samples("pod:q"), 2);
  EXPECT_GE(fake.samples("pod:p"), 2);
}

TEST(StatsCache, AListDoesNotWaitOnASampleThatBlocks) {
  FakeSource fake;
  fake.period_ms = 20;
  StatsCache cache(fake.source());
  list(cache, fake);
  fake.block("b");
  ASSERT_TRUE(crius::testing::eventually([&] {
    list(cache, fake);  // keeps the refresh going
    return fake.someone_blocked();
  }));
  // The refresh is stuck on b; a List still answers, from b's last sample.
  auto answered = std::async(std::launch::async, [&] { return list(cache, fake); });
  const bool done = answered.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  fake.release();
  ASSERT_TRUE(done) << "the List waited on the blocked sample";
  EXPECT_EQ(answered.get().count("b"), 1u);
}

TEST(StatsCache, PeriodZeroSamplesOnEveryCall) {
  FakeSource fake;
  fake.period_ms = 0;
  StatsCache cache(fake.source());
  list(cache, fake);
  list(cache, fake);
  EXPECT_EQ(fake.samples("a"), 2);
}

TEST(StatsCache, WhatIsGoneIsForgottenByTheRefresh) {
  FakeSource fake;
  fake.period_ms = 20;
  StatsCache cache(fake.source());
  list(cache, fake);
  const Record gone = fake.remove_last();
  const int before = fake.samples("c");
  EXPECT_TRUE(crius::testing::eventually([&] {
    list(cache, fake);
    return fake.samples("a") >= before + 2;
  }));
  // c was not sampled by the refresh any more (a refresh that listed it
  // before it went may have); asked for again, it is sampled anew.
  EXPECT_LE(fake.samples("c"), before + 1);
  const auto pass = cache.begin();
  const int now = fake.samples("c");
  EXPECT_EQ(cache.container(pass, gone).cgroup->stats.cpu.total_ns, static_cast<uint64_t>(now + 1));
}

}  // namespace
}  // namespace crius::container
