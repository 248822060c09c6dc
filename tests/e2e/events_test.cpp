// GetContainerEvents as kubelet's evented PLEG reads it: every subscriber
// sees created, started, stopped (also when the container ends by itself)
// and deleted, in order, each with the pod's status and its containers'; a
// subscriber that reads nothing holds up nothing and is ended once it falls
// behind; exits that happened while the daemon was down are reported after
// its restart.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/e2e/event_subscriber.h"
#include "tests/support/eventually.h"
//
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace crius::test {
namespace {

const std::vector<v1::ContainerEventType> kWholeLife = {v1::CONTAINER_CREATED_EVENT, v1::CONTAINER_STARTED_EVENT,
                                                        v1::CONTAINER_STOPPED_EVENT, v1::CONTAINER_DELETED_EVENT};

TEST(ContainerEvents, TwoSubscribersSeeAWholeLifeInOrder) {
  ContainerEnv env;
  Subscriber a(env.daemon), b(env.daemon);
  const std::string pod = env.run_pod("events");
  // It ends by itself: the stop comes from the monitor's exit record.
  const std::string id = env.create(pod, container_config("quits", env.image, {"sh", "-c", "sleep 1; exit 3"}));
  EXPECT_TRUE(crius::testing::eventually([&] { return a.of(id).size() >= 3 && b.of(id).size() >= 3; }, std::chrono::seconds(15)))
      << "no stop event for an exit by itself";
  ASSERT_TRUE(remove_container(env.daemon, id).ok());
  EXPECT_TRUE(crius::testing::eventually([&] { return a.of(id).size() >= 4 && b.of(id).size() >= 4; }));
  EXPECT_EQ(a.of(id), kWholeLife);
  EXPECT_EQ(b.of(id), kWholeLife);

  // Each event carries the pod's status and its containers' as they stood.
  for (const auto& e : a.events()) {
    if (e.container_id() != id) continue;
    EXPECT_EQ(e.pod_sandbox_status().id(), pod);
    EXPECT_GT(e.created_at(), 0);
    bool listed = false;
    for (const auto& c : e.containers_statuses()) {
      if (c.id() != id) continue;
      listed = true;
      if (e.container_event_type() == v1::CONTAINER_STOPPED_EVENT) {
        EXPECT_EQ(c.state(), v1::CONTAINER_EXITED);
        EXPECT_EQ(c.exit_code(), 3);
      }
      if (e.container_event_type() == v1::CONTAINER_STARTED_EVENT) {
        EXPECT_NE(c.state(), v1::CONTAINER_CREATED);
      }
    }
    EXPECT_EQ(listed, e.container_event_type() != v1::CONTAINER_DELETED_EVENT) << e.container_event_type();
  }
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

// A subscriber that never reads: the runtime goes on (every RPC below
// returns), the reading subscriber sees everything, and the stuck one is
// ended with RESOURCE_EXHAUSTED once it is 8 events behind, and counted.
TEST(ContainerEvents, AStuckSubscriberHoldsUpNothingAndIsEnded) {
  ContainerEnv env({}, {{"CRIUS_TEST_EVENT_QUEUE", "8"}});
  Subscriber stuck(env.daemon, /*read=*/false), reader(env.daemon);
  auto pc = pod_config("stuck");
  // Large events, so that the stuck client's transport window fills at once.
  (*pc.mutable_annotations())["example.com/blob"] = std::string(256 << 10, 'x');
  const std::string pod = env.run_pod(pc);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(env.create(pod, container_config("c" + std::to_string(i), env.image, {"sleep", "3600"})));
    ASSERT_TRUE(stop_container(env.daemon, ids.back(), 0).ok());
    ASSERT_TRUE(remove_container(env.daemon, ids.back()).ok());
  }
  EXPECT_TRUE(crius::testing::eventually([&] { return reader.of(ids.back()).size() == 4; }));
  for (const auto& id : ids) EXPECT_EQ(reader.of(id), kWholeLife) << id;

  const grpc::Status s = stuck.drain();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_LT(stuck.events().size(), 24u);
  EXPECT_NE(http_get(env.daemon.metrics_address(), "/metrics").find("crius_container_events_dropped_total 1\n"),
            std::string::npos);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(ContainerEvents, AnExitWhileTheDaemonWasDownIsReportedAfterTheRestart) {
  ContainerEnv env;
  const std::string pod = env.run_pod("down");
  const std::string id = env.create(pod, container_config("quits", env.image, {"sh", "-c", "sleep 1; exit 7"}));
  const int pid = container_info(env.daemon, id).value("pid", 0);
  ASSERT_GT(pid, 0);
  env.daemon.stop(SIGKILL);
  EXPECT_TRUE(crius::testing::eventually([&] { return ::kill(pid, 0) != 0; }, std::chrono::seconds(15)));

  env.daemon.restart();
  Subscriber kubelet(env.daemon);  // kubelet subscribes again once the runtime is back
  EXPECT_TRUE(crius::testing::eventually([&] { return !kubelet.of(id).empty(); }));
  EXPECT_EQ(kubelet.of(id), std::vector<v1::ContainerEventType>{v1::CONTAINER_STOPPED_EVENT});
  for (const auto& e : kubelet.events())
    for (const auto& c : e.containers_statuses())
      if (c.id() == id) {
        EXPECT_EQ(c.exit_code(), 7);
      }
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

// kubelet without evented PLEG never subscribes: what happens after the
// daemon's start is not kept for a subscriber that may never come (it held
// up to 4096 events, ~12 MiB), so the first one sees only what follows.
TEST(ContainerEvents, WithoutASubscriberLaterEventsAreNotKept) {
  ContainerEnv env;
  const std::string pod = env.run_pod("unwatched");
  const std::string before = env.create(pod, container_config("before", env.image, {"sleep", "3600"}));
  ASSERT_TRUE(stop_container(env.daemon, before, 0).ok());
  Subscriber kubelet(env.daemon);
  const std::string after = env.create(pod, container_config("after", env.image, {"sleep", "3600"}));
  EXPECT_TRUE(crius::testing::eventually([&] { return kubelet.of(after).size() == 2; }));
  EXPECT_EQ(kubelet.of(after),
            (std::vector<v1::ContainerEventType>{v1::CONTAINER_CREATED_EVENT, v1::CONTAINER_STARTED_EVENT}));
  EXPECT_TRUE(kubelet.of(before).empty());
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

}  // namespace
}  // namespace crius::test
