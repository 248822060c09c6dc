// The Stream* list RPCs (cri-api 1.36): StreamPodSandboxes, StreamContainers,
// StreamContainerStats and StreamPodSandboxStats answer exactly what their
// List counterparts answer, with the same filters, in messages that each fit
// kubelet's 16 MiB limit even when the unary List no longer does.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace crius::test {
namespace {

using Ids = std::multiset<std::string>;
constexpr int kKubeletLimit = 16 << 20;

std::unique_ptr<v1::RuntimeService::Stub> stub_with_limit(Daemon& d, int max_receive) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_receive);
  return v1::RuntimeService::NewStub(
      grpc::CreateCustomChannel("unix:" + d.socket(), grpc::InsecureChannelCredentials(), args));
}

// Reads a whole server stream; `take` collects each message's items.
template <class Response, class Take>
grpc::Status read_all(grpc::ClientReader<Response>& reader, int* messages, Take take) {
  Response batch;
  while (reader.Read(&batch)) {
    ++*messages;
    take(batch);
  }
  return reader.Finish();
}

struct Lists {
  Ids pods, containers, container_stats, pod_stats;
};

Lists unary(v1::RuntimeService::Stub& rt, const v1::PodSandboxFilter* pf, const v1::ContainerFilter* cf,
            const v1::ContainerStatsFilter* csf, const v1::PodSandboxStatsFilter* psf, grpc::StatusCode* code) {
  Lists out;
  *code = grpc::StatusCode::OK;
  auto note = [&](const grpc::Status& s) {
    if (!s.ok()) *code = s.error_code();
  };
  v1::ListPodSandboxRequest preq;
  if (pf) *preq.mutable_filter() = *pf;
  v1::ListPodSandboxResponse pres;
  note(rt.ListPodSandbox(deadline_ctx(60).get(), preq, &pres));
  for (const auto& p : pres.items()) out.pods.insert(p.id());
  v1::ListContainersRequest creq;
  if (cf) *creq.mutable_filter() = *cf;
  v1::ListContainersResponse cres;
  note(rt.ListContainers(deadline_ctx(60).get(), creq, &cres));
  for (const auto& c : cres.containers()) out.containers.insert(c.id());
  v1::ListContainerStatsRequest csreq;
  if (csf) *csreq.mutable_filter() = *csf;
  v1::ListContainerStatsResponse csres;
  note(rt.ListContainerStats(deadline_ctx(60).get(), csreq, &csres));
  for (const auto& c : csres.stats()) out.container_stats.insert(c.attributes().id());
  v1::ListPodSandboxStatsRequest psreq;
  if (psf) *psreq.mutable_filter() = *psf;
  v1::ListPodSandboxStatsResponse psres;
  note(rt.ListPodSandboxStats(deadline_ctx(60).get(), psreq, &psres));
  for (const auto& p : psres.stats()) out.pod_stats.insert(p.attributes().id());
  return out;
}

// One Stream RPC read whole into `ids` (its status must be OK).
template <class Req, class Res, class Filter, class Take>
void stream_ids(v1::RuntimeService::Stub& rt,
                std::unique_ptr<grpc::ClientReader<Res>> (v1::RuntimeService::Stub::*rpc)(grpc::ClientContext*,
                                                                                           const Req&),
                const Filter* filter, int* messages, Take take, const char* name) {
  Req req;
  if (filter) *req.mutable_filter() = *filter;
  auto ctx = deadline_ctx(60);
  auto reader = (rt.*rpc)(ctx.get(), req);
  auto s = read_all(*reader, messages, take);
  EXPECT_TRUE(s.ok()) << name << ": " << s.error_message();
}

// The four streams. `messages` counts the batches.
Lists streamed(v1::RuntimeService::Stub& rt, const v1::PodSandboxFilter* pf, const v1::ContainerFilter* cf,
               const v1::ContainerStatsFilter* csf, const v1::PodSandboxStatsFilter* psf, int* messages) {
  Lists out;
  using Stub = v1::RuntimeService::Stub;
  stream_ids(rt, &Stub::StreamPodSandboxes, pf, messages, [&](const v1::StreamPodSandboxesResponse& b) {
    for (const auto& p : b.pod_sandboxes()) out.pods.insert(p.id());
  }, "StreamPodSandboxes");
  stream_ids(rt, &Stub::StreamContainers, cf, messages, [&](const v1::StreamContainersResponse& b) {
    for (const auto& c : b.containers()) out.containers.insert(c.id());
  }, "StreamContainers");
  stream_ids(rt, &Stub::StreamContainerStats, csf, messages, [&](const v1::StreamContainerStatsResponse& b) {
    for (const auto& c : b.container_stats()) out.container_stats.insert(c.attributes().id());
  }, "StreamContainerStats");
  stream_ids(rt, &Stub::StreamPodSandboxStats, psf, messages, [&](const v1::StreamPodSandboxStatsResponse& b) {
    for (const auto& p : b.pod_sandbox_stats()) out.pod_stats.insert(p.attributes().id());
  }, "StreamPodSandboxStats");
  return out;
}

void expect_same(const Lists& listed, const Lists& streamed, const std::string& what) {
  EXPECT_EQ(streamed.pods, listed.pods) << what;
  EXPECT_EQ(streamed.containers, listed.containers) << what;
  EXPECT_EQ(streamed.container_stats, listed.container_stats) << what;
  EXPECT_EQ(streamed.pod_stats, listed.pod_stats) << what;
}

TEST(StreamLists, SameItemsAsListWithEveryFilter) {
  ContainerEnv env;
  std::vector<std::string> pods, running, created;
  for (const char* app : {"web", "web", "db"}) {
    auto pc = pod_config(std::string(app) + std::to_string(pods.size()));
    (*pc.mutable_labels())["app"] = app;
    set_host_network(pc);
    pods.push_back(env.run_pod(pc));
    auto up = container_config("up", env.image, {"sleep", "3600"});
    (*up.mutable_labels())["app"] = app;
    running.push_back(env.create(pods.back(), up));
    created.push_back(env.create(pods.back(), container_config("idle", env.image, {"true"}), false));
  }
  ASSERT_TRUE(stop_pod(env.daemon, pods[2]).ok());  // a NOTREADY pod and EXITED containers too
  auto rt = env.daemon.runtime();

  auto check = [&](const v1::PodSandboxFilter* pf, const v1::ContainerFilter* cf,
                   const v1::ContainerStatsFilter* csf, const v1::PodSandboxStatsFilter* psf,
                   const std::string& what, size_t expected_pods) {
    grpc::StatusCode code;
    const Lists listed = unary(*rt, pf, cf, csf, psf, &code);
    ASSERT_EQ(code, grpc::StatusCode::OK) << what;
    EXPECT_EQ(listed.pods.size(), expected_pods) << what;  // the filter did select
    int messages = 0;
    expect_same(listed, streamed(*rt, pf, cf, csf, psf, &messages), what);
  };
  check(nullptr, nullptr, nullptr, nullptr, "no filter", 3);

  v1::PodSandboxFilter pf;
  (*pf.mutable_label_selector())["app"] = "web";
  v1::ContainerFilter cf;
  (*cf.mutable_label_selector())["app"] = "web";
  v1::ContainerStatsFilter csf;
  (*csf.mutable_label_selector())["app"] = "web";
  v1::PodSandboxStatsFilter psf;
  (*psf.mutable_label_selector())["app"] = "web";
  check(&pf, &cf, &csf, &psf, "label app=web", 2);

  v1::PodSandboxFilter by_id;
  by_id.set_id(pods[1]);
  v1::ContainerFilter in_pod;
  in_pod.set_pod_sandbox_id(pods[1]);
  v1::ContainerStatsFilter stats_in_pod;
  stats_in_pod.set_pod_sandbox_id(pods[1]);
  v1::PodSandboxStatsFilter pod_stats_id;
  pod_stats_id.set_id(pods[1]);
  check(&by_id, &in_pod, &stats_in_pod, &pod_stats_id, "by pod id", 1);

  v1::PodSandboxFilter ready;
  ready.mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ContainerFilter running_only;
  running_only.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  v1::ContainerStatsFilter stats_of;
  stats_of.set_id(running[0]);
  check(&ready, &running_only, &stats_of, nullptr, "by state", 2);
}

// Enough pods and containers, each with 96 KiB of annotations, that every
// unary List answer is over the 16 MiB that kubelet and the daemon allow:
// the List fails, and the Stream gives exactly what was made, each message
// within that limit.
TEST(StreamLists, OverSixteenMebibytesStreamsWhatListCannot) {
  ContainerEnv env;
  const std::string big(96 << 10, 'x');
  constexpr int kPods = 180, kContainers = 180;  // 180 x 96 KiB = 16.9 MiB
  Lists made;
  for (int i = 0; i < kPods; ++i) {
    auto pc = pod_config("big" + std::to_string(i));
    set_host_network(pc);
    (*pc.mutable_annotations())["example.com/blob"] = big;
    const std::string pod = env.run_pod(pc);
    made.pods.insert(pod);
    // One container per pod: a pod's stats carry its containers' (a single
    // item must fit a message, as any one pod's does in Kubernetes, whose
    // objects hold at most 256 KiB of annotations).
    if (i < kContainers) {
      auto c = container_config("c", env.image, {"true"});
      (*c.mutable_annotations())["example.com/blob"] = big;
      made.containers.insert(env.create(pod, c, false));
    }
  }
  made.pod_stats = made.pods;
  made.container_stats = made.containers;

  auto limited = stub_with_limit(env.daemon, kKubeletLimit);
  grpc::StatusCode code;
  unary(*limited, nullptr, nullptr, nullptr, nullptr, &code);
  EXPECT_EQ(code, grpc::StatusCode::RESOURCE_EXHAUSTED) << "the unary answers must not fit, or this test tests nothing";

  int messages = 0;
  expect_same(made, streamed(*limited, nullptr, nullptr, nullptr, nullptr, &messages), "over 16 MiB");
  EXPECT_GE(messages, 4 * 4) << "each answer came in several messages";
}

}  // namespace
}  // namespace crius::test
