// Every implemented RPC with the least a client may send: configs with
// only the fields the CRI requires (as critest and crictl send them), empty
// requests, absent and empty filters, and optional messages present but
// empty. Each checks what the CRI says the defaults are.
// conformance_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/conformance_helpers.h"
#include "tests/support/eventually.h"
//
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::test {
namespace {

using Rt = v1::RuntimeService::Stub;
using Img = v1::ImageService::Stub;

template <class Items>
bool has_id(const Items& items, const std::string& id) {
  return std::any_of(items.begin(), items.end(), [&](const auto& i) { return i.id() == id; });
}

template <class Stats>
bool has_stats_of(const google::protobuf::RepeatedPtrField<Stats>& stats, const std::string& id) {
  return std::any_of(stats.begin(), stats.end(), [&](const auto& s) { return s.attributes().id() == id; });
}

// A bare pod and a bare running container in it, for the tests that need
// something to list, inspect or update.
struct BarePod {
  explicit BarePod(ContainerEnv& env, const std::string& name = "bare") : config(bare_pod_config(name)) {
    auto s = run_pod(env.daemon, config, &pod);
    if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + describe(s));
    s = create_container(env.daemon, pod, bare_container_config("c", env.image, {"sleep", "3600"}), config, &container);
    if (!s.ok()) throw std::runtime_error("CreateContainer: " + describe(s));
    s = start_container(env.daemon, container);
    if (!s.ok()) throw std::runtime_error("StartContainer: " + describe(s));
  }
  v1::PodSandboxConfig config;
  std::string pod, container;
};

// kubelet's sequence for one pod with one container, each request carrying
// only what `pc` and `cc` have: run, create, start, status, exec, stop,
// remove, stop and remove the pod; with what the CRI gives for every field
// left out.
void kubelet_flow(ContainerEnv& env, const v1::PodSandboxConfig& pc, const v1::ContainerConfig& cc) {
  Daemon& d = env.daemon;
  std::string pod;
  auto s = run_pod(d, pc, &pod);
  ASSERT_TRUE(s.ok()) << describe(s);
  const auto ps = pod_status(d, pod, false).status();
  EXPECT_EQ(ps.id(), pod);
  EXPECT_EQ(ps.state(), v1::SANDBOX_READY);
  EXPECT_EQ(ps.metadata().name(), pc.metadata().name());
  EXPECT_EQ(ps.metadata().uid(), pc.metadata().uid());
  EXPECT_EQ(ps.metadata().namespace_(), pc.metadata().namespace_());
  EXPECT_EQ(ps.metadata().attempt(), 0u);
  EXPECT_GT(ps.created_at(), 0);
  EXPECT_EQ(ps.network().ip().rfind(env.net.subnet_prefix, 0), 0u) << "on the pod network: " << ps.network().ip();
  EXPECT_EQ(ps.linux().namespaces().options().network(), v1::POD);
  EXPECT_TRUE(ps.labels().empty());
  EXPECT_TRUE(ps.annotations().empty());

  std::string id;
  s = create_container(d, pod, cc, pc, &id);
  ASSERT_TRUE(s.ok()) << describe(s);
  auto st = container_status(d, id).status();
  EXPECT_EQ(st.state(), v1::CONTAINER_CREATED);
  EXPECT_EQ(st.started_at(), 0);
  s = start_container(d, id);
  ASSERT_TRUE(s.ok()) << describe(s);

  st = container_status(d, id).status();
  EXPECT_EQ(st.id(), id);
  EXPECT_EQ(st.state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(st.metadata().name(), cc.metadata().name());
  EXPECT_EQ(st.metadata().attempt(), 0u);
  EXPECT_EQ(st.log_path(), "") << "no log_path (and no log_directory) was given: no log";
  EXPECT_EQ(st.image().image(), env.image);
  EXPECT_FALSE(st.image_ref().empty());
  EXPECT_EQ(st.image_id().rfind("sha256:", 0), 0u) << st.image_id();
  EXPECT_GT(st.created_at(), 0);
  EXPECT_GE(st.started_at(), st.created_at());
  EXPECT_EQ(st.finished_at(), 0);
  EXPECT_EQ(st.exit_code(), 0);
  EXPECT_EQ(st.reason(), "");
  EXPECT_TRUE(st.labels().empty());
  EXPECT_TRUE(st.annotations().empty());
  EXPECT_TRUE(st.mounts().empty());
  EXPECT_EQ(st.user().linux().uid(), 0) << "the image names no user: root";
  EXPECT_EQ(st.user().linux().gid(), 0);
  const int pid = container_pid(d, id);
  ASSERT_GT(pid, 0);

  // ExecSync with the container and the command only: timeout 0 is no limit.
  {
    v1::ExecSyncRequest req;
    req.set_container_id(id);
    req.add_cmd("hostname");
    v1::ExecSyncResponse res;
    s = call(d.runtime(), &Rt::ExecSync, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_EQ(res.exit_code(), 0);
    EXPECT_EQ(res.stdout(), node_hostname() + "\n") << "no hostname was given: the node's";
    EXPECT_EQ(res.stderr(), "");
  }
  EXPECT_EQ(exec_sync(d, id, {"cat", "/etc/resolv.conf"}).out, read_file("/etc/resolv.conf"))
      << "no DNS servers, searches or options: the node's resolv.conf";
  EXPECT_EQ(exec_sync(d, id, {"id", "-u"}).out, "0\n");

  // StopContainer with the ID only: timeout 0, killed at once.
  {
    v1::StopContainerRequest req;
    req.set_container_id(id);
    v1::StopContainerResponse res;
    s = call(d.runtime(), &Rt::StopContainer, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
  }
  st = container_status(d, id).status();
  EXPECT_EQ(st.state(), v1::CONTAINER_EXITED);
  EXPECT_NE(st.exit_code(), 0);
  EXPECT_GE(st.finished_at(), st.started_at());
  EXPECT_FALSE(::kill(pid, 0) == 0) << "the process is gone";

  {
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse res;
    s = call(d.runtime(), &Rt::RemoveContainer, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
  }
  grpc::Status gone;
  container_status(d, id, &gone);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(list_containers(d).empty());

  s = stop_pod(d, pod);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(pod_status(d, pod, false).status().state(), v1::SANDBOX_NOTREADY);
  s = remove_pod(d, pod);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_TRUE(list_pods(d).empty());
}

TEST(MinimalConfig, PodAndContainerWithOnlyRequiredFieldsGoThroughTheKubeletFlow) {
  ContainerEnv env;
  kubelet_flow(env, bare_pod_config("bare"), bare_container_config("c", env.image, {"sleep", "3600"}));
}

// A client that builds its messages field by field sends empty submessages
// where it had nothing to say; they mean what their absence means.
TEST(MinimalConfig, EmptyOptionalMessagesBehaveAsAbsentOnes) {
  ContainerEnv env;
  auto pc = bare_pod_config("empty-msgs");
  pc.mutable_linux()->mutable_security_context();
  pc.mutable_dns_config();
  ASSERT_TRUE(pc.has_linux() && pc.linux().has_security_context() && pc.has_dns_config());
  ASSERT_EQ(pc.port_mappings_size(), 0);
  auto cc = bare_container_config("c", env.image, {"sleep", "3600"});
  cc.mutable_linux()->mutable_security_context();
  cc.mutable_linux()->mutable_resources();
  ASSERT_TRUE(cc.has_linux() && cc.linux().has_security_context() && cc.linux().has_resources());
  kubelet_flow(env, pc, cc);
}

TEST(MinimalConfig, ListsAnswerWithoutAFilterAndWithAnEmptyOne) {
  ContainerEnv env;
  BarePod bare(env);
  for (bool empty_filter : {false, true}) {
    SCOPED_TRACE(empty_filter ? "empty filter" : "no filter");
    v1::ListPodSandboxRequest pods;
    if (empty_filter) pods.mutable_filter();
    const auto pod_list = list_pods(env.daemon, pods);
    EXPECT_TRUE(has_id(pod_list, bare.pod));

    v1::ListContainersRequest ctrs;
    if (empty_filter) ctrs.mutable_filter();
    const auto ctr_list = list_containers(env.daemon, ctrs);
    ASSERT_TRUE(has_id(ctr_list, bare.container));
    for (const auto& c : ctr_list) {
      if (c.id() != bare.container) continue;
      EXPECT_EQ(c.pod_sandbox_id(), bare.pod);
      EXPECT_EQ(c.state(), v1::CONTAINER_RUNNING);
      EXPECT_EQ(c.image().image(), env.image);
    }
  }
  ASSERT_TRUE(remove_pod(env.daemon, bare.pod).ok());
}

// What kubelet asks first, with nothing in the requests.
TEST(MinimalConfig, VersionStatusAndRuntimeConfigWithEmptyRequests) {
  ContainerEnv env;
  {
    v1::VersionResponse res;
    auto s = call(env.daemon.runtime(), &Rt::Version, v1::VersionRequest(), &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_FALSE(res.version().empty());
    EXPECT_EQ(res.runtime_name(), "crius");
    EXPECT_FALSE(res.runtime_version().empty());
    EXPECT_EQ(res.runtime_api_version(), "v1");
  }
  // The CNI config is written after the daemon starts: NetworkReady follows.
  auto condition = [](const v1::StatusResponse& res, const std::string& type) -> const v1::RuntimeCondition* {
    for (const auto& c : res.status().conditions())
      if (c.type() == type) return &c;
    return nullptr;
  };
  v1::StatusResponse plain;
  EXPECT_TRUE(crius::testing::eventually([&] {
    plain.Clear();
    if (!call(env.daemon.runtime(), &Rt::Status, v1::StatusRequest(), &plain).ok()) return false;
    const auto* n = condition(plain, "NetworkReady");
    return n && n->status();
  })) << plain.DebugString();
  const auto* runtime_ready = condition(plain, "RuntimeReady");
  ASSERT_NE(runtime_ready, nullptr);
  EXPECT_TRUE(runtime_ready->status());
  EXPECT_TRUE(plain.info().empty()) << "info is for verbose requests";
  // "" is the default handler (a pod without runtime_handler), listed with its features.
  EXPECT_TRUE(std::any_of(plain.runtime_handlers().begin(), plain.runtime_handlers().end(),
                          [](const auto& h) { return h.name().empty(); }))
      << plain.DebugString();
  {
    v1::StatusRequest req;
    req.set_verbose(true);
    v1::StatusResponse res;
    auto s = call(env.daemon.runtime(), &Rt::Status, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_FALSE(res.info().empty());
    for (const auto& [k, v] : res.info())
      EXPECT_FALSE(nlohmann::json::parse(v, nullptr, false).is_discarded()) << "info[" << k << "] is JSON: " << v;
    EXPECT_NE(condition(res, "RuntimeReady"), nullptr);
  }
  {
    v1::RuntimeConfigResponse res;
    auto s = call(env.daemon.runtime(), &Rt::RuntimeConfig, v1::RuntimeConfigRequest(), &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    ASSERT_TRUE(res.has_linux());
    EXPECT_TRUE(res.linux().cgroup_driver() == v1::CgroupDriver::SYSTEMD ||
                res.linux().cgroup_driver() == v1::CgroupDriver::CGROUPFS);
  }
}

// PullImage with `image.image` only (no auth, no sandbox config), then the
// other image calls with the least they may carry. crictl's `images` sends a
// filter holding an empty ImageSpec: that is no filter either.
TEST(MinimalConfig, ImageCallsWithOnlyTheImageName) {
  ContainerEnv env;
  std::string ref;
  {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(env.image);
    v1::PullImageResponse res;
    auto s = call(env.daemon.image(), &Img::PullImage, req, &res, 120);
    ASSERT_TRUE(s.ok()) << describe(s);
    ref = res.image_ref();
    EXPECT_EQ(ref.rfind("sha256:", 0), 0u) << ref;
  }
  {
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(env.image);
    v1::ImageStatusResponse res;
    auto s = call(env.daemon.image(), &Img::ImageStatus, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    ASSERT_TRUE(res.has_image());
    EXPECT_EQ(res.image().id(), ref);
    EXPECT_TRUE(res.info().empty()) << "info is for verbose requests";
  }
  for (int variant = 0; variant < 3; ++variant) {
    const char* what[] = {"no filter", "an empty filter", "a filter with an empty image"};
    SCOPED_TRACE(what[variant]);
    v1::ListImagesRequest req;
    if (variant == 1) req.mutable_filter();
    if (variant == 2) req.mutable_filter()->mutable_image();
    v1::ListImagesResponse res;
    auto s = call(env.daemon.image(), &Img::ListImages, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_TRUE(has_id(res.images(), ref));
  }
  {
    v1::ImageFsInfoResponse res;
    auto s = call(env.daemon.image(), &Img::ImageFsInfo, v1::ImageFsInfoRequest(), &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    ASSERT_GE(res.image_filesystems_size(), 1);
    EXPECT_FALSE(res.image_filesystems(0).fs_id().mountpoint().empty());
    EXPECT_GT(res.image_filesystems(0).used_bytes().value(), 0u);
    EXPECT_GT(res.image_filesystems(0).timestamp(), 0);
  }
}

TEST(MinimalConfig, StatsWithEmptyRequestsAndFilters) {
  ContainerEnv env;
  BarePod bare(env);
  {
    v1::ContainerStatsRequest req;
    req.set_container_id(bare.container);
    v1::ContainerStatsResponse res;
    auto s = call(env.daemon.runtime(), &Rt::ContainerStats, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_EQ(res.stats().attributes().id(), bare.container);
    EXPECT_EQ(res.stats().attributes().metadata().name(), "c");
  }
  {
    v1::PodSandboxStatsRequest req;
    req.set_pod_sandbox_id(bare.pod);
    v1::PodSandboxStatsResponse res;
    auto s = call(env.daemon.runtime(), &Rt::PodSandboxStats, req, &res);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_EQ(res.stats().attributes().id(), bare.pod);
    EXPECT_EQ(res.stats().attributes().metadata().name(), bare.config.metadata().name());
  }
  for (bool empty_filter : {false, true}) {
    SCOPED_TRACE(empty_filter ? "empty filter" : "no filter");
    v1::ListContainerStatsRequest creq;
    if (empty_filter) creq.mutable_filter();
    v1::ListContainerStatsResponse cres;
    auto s = call(env.daemon.runtime(), &Rt::ListContainerStats, creq, &cres);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_TRUE(has_stats_of(cres.stats(), bare.container));

    v1::ListPodSandboxStatsRequest preq;
    if (empty_filter) preq.mutable_filter();
    v1::ListPodSandboxStatsResponse pres;
    s = call(env.daemon.runtime(), &Rt::ListPodSandboxStats, preq, &pres);
    ASSERT_TRUE(s.ok()) << describe(s);
    EXPECT_TRUE(has_stats_of(pres.stats(), bare.pod));
  }
  ASSERT_TRUE(remove_pod(env.daemon, bare.pod).ok());
}

// An empty LinuxContainerResources sets nothing: containerd applies only the
// fields that are set, so the limits the container has stay as they are.
TEST(MinimalConfig, UpdateContainerResourcesWithAnEmptyLinuxMessageChangesNothing) {
  ContainerEnv env;
  BarePod bare(env);
  const int pid = container_pid(env.daemon, bare.container);
  ASSERT_GT(pid, 0);
  auto limits = [pid] {
    return std::vector<std::string>{cgroup_value(pid, "memory", "memory.limit_in_bytes", "memory.max"),
                                    cgroup_value(pid, "cpu", "cpu.shares", "cpu.weight"),
                                    cgroup_value(pid, "cpu", "cpu.cfs_quota_us", "cpu.max")};
  };
  const auto before = limits();
  EXPECT_FALSE(before[0].empty()) << "the container's memory cgroup was not found";
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(bare.container);
  req.mutable_linux();
  v1::UpdateContainerResourcesResponse res;
  auto s = call(env.daemon.runtime(), &Rt::UpdateContainerResources, req, &res);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(limits(), before);
  EXPECT_EQ(container_status(env.daemon, bare.container).status().state(), v1::CONTAINER_RUNNING);
  auto ex = exec_sync(env.daemon, bare.container, {"true"});
  EXPECT_TRUE(ex.status.ok()) << describe(ex.status);
  EXPECT_EQ(ex.exit_code, 0);
  ASSERT_TRUE(remove_pod(env.daemon, bare.pod).ok());
}

// The CRI leaves a running container without a log path unsaid; containerd
// answers OK (its loggers for such a container discard the output and are
// simply made again). The daemon and the container keep working.
TEST(MinimalConfig, ReopenContainerLogWithoutALogPathSucceeds) {
  ContainerEnv env;
  BarePod bare(env);
  ASSERT_EQ(container_status(env.daemon, bare.container).status().log_path(), "");
  v1::ReopenContainerLogRequest req;
  req.set_container_id(bare.container);
  v1::ReopenContainerLogResponse res;
  auto s = call(env.daemon.runtime(), &Rt::ReopenContainerLog, req, &res);
  EXPECT_TRUE(s.ok()) << describe(s);
  EXPECT_TRUE(env.daemon.running());
  v1::VersionResponse version;
  EXPECT_TRUE(call(env.daemon.runtime(), &Rt::Version, v1::VersionRequest(), &version).ok());
  EXPECT_EQ(container_status(env.daemon, bare.container).status().state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(exec_sync(env.daemon, bare.container, {"echo", "still here"}).out, "still here\n");
  ASSERT_TRUE(remove_pod(env.daemon, bare.pod).ok());
}

}  // namespace
}  // namespace crius::test
