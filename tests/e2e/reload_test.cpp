// SIGHUP on a running daemon: each live key, changed in the config file,
// is used by the next RPC; a config that does not validate is refused whole
// and the old one stays; restart-only keys keep their value with a warning.
// Each test rewrites the daemon's crius.yaml and reloads (Daemon::reload);
// the flags of Daemon::args() (root, state, CNI config dir, metrics) and of
// ContainerEnv (the CNI plugin dirs) still win over the file.

// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/e2e/image_helpers.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using fixtures::Registry;
using image_e2e::pull;

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

// The effective capability set of a process in the container, from its /proc/self/status.
uint64_t cap_eff(Daemon& d, const std::string& id) {
  auto ex = exec_sync(d, id, {"grep", "CapEff", "/proc/self/status"});
  EXPECT_TRUE(ex.status.ok()) << ex.status.error_message();
  const auto tab = ex.out.find_first_of(" \t");
  return tab == std::string::npos ? 0 : std::stoull(ex.out.substr(tab + 1), nullptr, 16);
}
constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }
constexpr int kCapKill = 5, kCapNetRaw = 13;

// The first line of the v1 `controller` cgroup file `file` of process `pid`.
std::string cgroup_value(int pid, const std::string& controller, const std::string& file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (line.substr(a + 1, b - a - 1) != controller) continue;
    std::ifstream f("/sys/fs/cgroup/" + controller + line.substr(b + 1) + "/" + file);
    std::string v;
    std::getline(f, v);
    return v;
  }
  return "";
}

grpc::Status run_pod_with(Daemon& d, v1::PodSandboxConfig c, const std::string& handler, std::string* id) {
  c.set_log_directory(d.dir() / ("logs/" + c.metadata().name()));
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = c;
  req.set_runtime_handler(handler);
  v1::RunPodSandboxResponse res;
  auto s = d.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res);
  *id = res.pod_sandbox_id();
  return s;
}

// The pods of a daemon started without ContainerEnv go with it.
struct PodsGo {
  Daemon& d;
  std::vector<std::string> ids;
  ~PodsGo() {
    for (const auto& id : ids) remove_pod(d, id);
  }
};

TEST(Reload, RegistriesMirrorsAndShortNamesChangeOnTheNextPull) {
  Registry origin, mirror;
  const auto v1_image = fixtures::push_image(origin, "team/app", "v1", {image_e2e::busybox()});
  fixtures::ImageConfig other;
  other.env = {"ONLY=mirror"};
  const auto v2_image = fixtures::push_image(mirror, "team/app", "v2", {image_e2e::busybox()}, other);
  Daemon d;
  EXPECT_FALSE(pull(d, "example.test/team/app:v1").status.ok()) << "no registry answers for example.test yet";

  // Step 1: a registry entry added after start routes the next pull.
  const std::string registry = "image:\n  registries:\n    - prefix: example.test\n      location: " + origin.host() +
                               "\n      insecure: true\n";
  ASSERT_TRUE(d.reload(registry)) << d.log();
  auto r = pull(d, "example.test/team/app:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, v1_image.config_digest);
  EXPECT_TRUE(std::regex_search(d.log(), std::regex("level=info msg=\"config key changed\" key=image.registries "
                                                    "old=\\[\\] new=\"\\[\\{prefix: example.test")))
      << d.log();

  // Step 2: a mirror added to it is asked first (only it has v2).
  const std::string mirrors = "      mirrors:\n        - location: " + mirror.host() + "\n          insecure: true\n";
  ASSERT_TRUE(d.reload(registry + mirrors)) << d.log();
  r = pull(d, "example.test/team/app:v2");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, v2_image.config_digest);
  EXPECT_EQ(mirror.count_requests("/v2/team/app/manifests/v2"), 1);

  // Step 3: short names are searched in the reloaded list (by default
  // docker.io, which could never answer with this image).
  ASSERT_TRUE(d.reload(registry + "  short_name_search: [example.test]\n"));
  r = pull(d, "team/app:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, v1_image.config_digest);
}

TEST(Reload, PinnedImagesShowInImageStatusAndListImages) {
  ContainerEnv env;
  Daemon& d = env.daemon;
  ASSERT_FALSE(image_e2e::status(d, env.image)->pinned());

  ASSERT_TRUE(d.reload("image:\n  pinned_images: [" + env.image + "]\n")) << d.log();
  EXPECT_TRUE(image_e2e::status(d, env.image)->pinned());
  const auto listed = image_e2e::list(d);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].pinned());

  ASSERT_TRUE(d.reload(""));
  EXPECT_FALSE(image_e2e::status(d, env.image)->pinned()) << "unpinned by the next reload";
}

TEST(Reload, InvalidConfigIsRefusedWholeAndTheOldOneStays) {
  ContainerEnv env;
  Daemon& d = env.daemon;
  ASSERT_TRUE(d.reload("image:\n  pinned_images: [" + env.image + "]\n")) << d.log();
  ASSERT_TRUE(image_e2e::status(d, env.image)->pinned());

  // Unpinning is valid, the layer count is not: nothing of it is taken.
  EXPECT_FALSE(d.reload("image:\n  pinned_images: []\n  max_parallel_layers: 0\n"));
  EXPECT_TRUE(std::regex_search(d.log(), std::regex("level=error msg=\"config reload failed; keeping the current "
                                                    "config\" error=\"[^\"]*image.max_parallel_layers")))
      << d.log();
  EXPECT_TRUE(image_e2e::status(d, env.image)->pinned()) << "the old config is still the one in use";
  EXPECT_TRUE(d.running());
}

TEST(Reload, RestartOnlyKeysKeepTheirValueWithAWarning) {
  Daemon d({.config_yaml = "streaming:\n  port: 0\n"});
  ASSERT_TRUE(d.reload("streaming:\n  port: " + std::to_string(free_tcp_port()) + "\ncgroup_driver: systemd\n" +
                       "runtime:\n  pids_limit: 7\n"))
      << d.log();
  const std::string log = d.log();
  EXPECT_TRUE(std::regex_search(log, std::regex("level=warn msg=\"config key needs a restart to change; keeping the "
                                                "current value\" key=streaming.port current=0 wanted=[0-9]+")))
      << log;
  EXPECT_CONTAINS(log, "key=cgroup_driver current=cgroupfs wanted=systemd");
  EXPECT_CONTAINS(log, "msg=\"config key changed\" key=runtime.pids_limit old=0 new=7");
  EXPECT_EQ(log.find("msg=\"config key changed\" key=streaming"), std::string::npos) << log;
  EXPECT_CONTAINS(log, "msg=\"config reloaded\" changed=1");
}

TEST(Reload, NewHandlerRunsNewPodsAndARemovedOneKeepsItsPods) {
  ContainerEnv env;
  Daemon& d = env.daemon;
  const std::string with_handler = "runtime:\n  handlers:\n    reload-runc: {type: oci, path: runc}\n";
  std::string pod;
  auto s = run_pod_with(d, pod_config("before"), "reload-runc", &pod);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Step 1: added, it runs new pods.
  ASSERT_TRUE(d.reload(with_handler)) << d.log();
  EXPECT_CONTAINS(d.log(), "key=runtime.handlers.reload-runc old=\"\" new=\"{type: oci, path: runc}\"");
  const auto pc = pod_config("added");
  s = run_pod_with(d, pc, "reload-runc", &pod);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << d.log();
  env.pods[pod] = pc;
  const std::string first = env.create(pod, container_config("first", env.image, {"sleep", "3600"}));
  EXPECT_TRUE(fs::exists(d.dir() / ("state/runtime/reload-runc/" + first + "/state.json")))
      << "runc keeps the container's state under the handler's root";
  EXPECT_EQ(exec_sync(d, first, {"echo", "hi"}).out, "hi\n");

  // Step 2: removed, new pods are refused naming it; the running pod keeps
  // it: its containers work and it can get a new one.
  ASSERT_TRUE(d.reload("")) << d.log();
  std::string refused;
  s = run_pod_with(d, pod_config("after"), "reload-runc", &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.error_message(), "runtime handler \"reload-runc\" is not configured");
  EXPECT_EQ(exec_sync(d, first, {"echo", "still"}).out, "still\n");
  const std::string second = env.create(pod, container_config("second", env.image, {"sleep", "3600"}));
  EXPECT_TRUE(wait_state(d, second, v1::CONTAINER_RUNNING));
  EXPECT_TRUE(fs::exists(d.dir() / ("state/runtime/reload-runc/" + second + "/state.json")));
  EXPECT_TRUE(stop_container(d, first, 2).ok());
  ASSERT_TRUE(remove_pod(d, pod).ok());
  env.pods.erase(pod);

  // Step 3: a new default handler is what a pod that names none gets.
  ASSERT_TRUE(d.reload(with_handler + "  default_handler: reload-runc\n")) << d.log();
  const auto dpc = pod_config("default");
  s = run_pod_with(d, dpc, "", &pod);
  ASSERT_TRUE(s.ok()) << s.error_message();
  env.pods[pod] = dpc;
  EXPECT_EQ(pod_status(d, pod).status().runtime_handler(), "reload-runc");
}

TEST(Reload, DefaultCapabilitiesReachTheNextContainer) {
  ContainerEnv env;
  Daemon& d = env.daemon;
  const std::string pod = env.run_pod("caps");
  const std::string before = env.create(pod, container_config("before", env.image, {"sleep", "3600"}));
  const uint64_t old_caps = cap_eff(d, before);
  EXPECT_TRUE(old_caps & bit(kCapKill)) << std::hex << old_caps;
  EXPECT_FALSE(old_caps & bit(kCapNetRaw)) << std::hex << old_caps;

  ASSERT_TRUE(d.reload("runtime:\n  default_capabilities: [CHOWN, NET_RAW]\n")) << d.log();
  const std::string after = env.create(pod, container_config("after", env.image, {"sleep", "3600"}));
  EXPECT_EQ(cap_eff(d, after), bit(0) | bit(kCapNetRaw));
  EXPECT_EQ(cap_eff(d, before), old_caps) << "a container keeps what it was created with";
}

TEST(Reload, PidsLimitReachesTheNextContainer) {
  ContainerEnv env({"--cgroup-driver", "cgroupfs"});
  Daemon& d = env.daemon;
  const std::string pod = env.run_pod("pids");
  ASSERT_TRUE(d.reload("runtime:\n  pids_limit: 64\n")) << d.log();
  const std::string id = env.create(pod, container_config("c", env.image, {"sleep", "3600"}));
  const auto info = container_info(d, id);
  EXPECT_EQ(info["runtimeSpec"]["linux"]["resources"]["pids"]["limit"], 64) << info.dump();
  EXPECT_EQ(cgroup_value(info.value("pid", 0), "pids", "pids.max"), "64");
}

TEST(Reload, ShmSizeReachesTheNextPod) {
  // A host-network pod has an IPC namespace and /dev/shm of its own, and needs no CNI.
  Daemon d;
  PodsGo pods{d, {}};
  auto size_of = [&](const std::string& pod) {
    struct statvfs st {};
    EXPECT_EQ(::statvfs((d.dir() / ("state/sandboxes/" + pod + "/shm")).c_str(), &st), 0);
    return static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  };
  auto pc = pod_config("shm-before");
  set_host_network(pc);
  std::string before, after;
  ASSERT_TRUE(run_pod_with(d, pc, "", &before).ok());
  pods.ids.push_back(before);
  EXPECT_EQ(size_of(before), 64u << 20);

  ASSERT_TRUE(d.reload("runtime:\n  shm_size: 8Mi\n")) << d.log();
  pc = pod_config("shm-after");
  set_host_network(pc);
  auto s = run_pod_with(d, pc, "", &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  pods.ids.push_back(after);
  EXPECT_EQ(size_of(after), 8u << 20);
  EXPECT_EQ(size_of(before), 64u << 20) << "a running pod keeps its /dev/shm";
}

TEST(Reload, CniPluginDirsChangeTheNextPod) {
  TestNetwork net;
  TempDir empty;
  const std::string plugins = "network:\n  cni_plugin_dirs: [/usr/lib/cni]\n";
  Daemon d({.config_yaml = plugins});
  PodsGo pods{d, {}};
  write_file(d.dir() / "cni/10-test.conflist", net.conflist({}, false));
  std::string id;

  ASSERT_TRUE(d.reload("network:\n  cni_plugin_dirs: [" + empty.path() + "]\n")) << d.log();
  auto s = run_pod_with(d, pod_config("no-plugins"), "", &id);
  EXPECT_FALSE(s.ok());
  EXPECT_CONTAINS(s.error_message(), "CNI plugin bridge ADD");
  EXPECT_CONTAINS(s.error_message(), "plugin not found in " + empty.path());

  ASSERT_TRUE(d.reload(plugins)) << d.log();
  s = run_pod_with(d, pod_config("plugins-back"), "", &id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  pods.ids.push_back(id);
  EXPECT_FALSE(pod_status(d, id).status().network().ip().empty());
}

TEST(Reload, CniPluginTimeoutChangesTheNextCall) {
  TestNetwork net;
  TestPlugins test_plugins;
  const std::string plugins = "network:\n  cni_plugin_dirs: [" + test_plugins.dir.path() + "]\n";
  Daemon d({.config_yaml = plugins});  // the default timeout: a minute
  PodsGo pods{d, {}};
  write_file(d.dir() / "cni/10-test.conflist",
             R"({"cniVersion":"1.0.0","name":"hang","plugins":[{"type":"crius-hang"}]})");

  ASSERT_TRUE(d.reload(plugins + "  cni_plugin_timeout: 1s\n")) << d.log();
  const auto start = std::chrono::steady_clock::now();
  std::string id;
  auto s = run_pod_with(d, pod_config("hang"), "", &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_CONTAINS(s.error_message(), "no answer within 1000ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace crius::test
