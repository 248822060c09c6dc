// Hostile CRI input as crictl can send it: each request is refused with
// InvalidArgument naming the field, and leaves nothing (no record, no
// directory, no mount, no monitor); the kubelet-shaped values next to them
// still work.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <sstream>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

// The request was refused as bad input, naming `field`, in a message that
// does not echo megabytes back.
void expect_refused(const grpc::Status& s, const std::string& field, const std::string& what) {
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what << ": " << s.error_message().substr(0, 300);
  EXPECT_NE(s.error_message().find(field), std::string::npos) << what << ": " << s.error_message().substr(0, 300);
  EXPECT_LT(s.error_message().size(), 1024u) << what;
}

size_t pod_count(Daemon& d) {
  v1::ListPodSandboxResponse res;
  if (!d.runtime()->ListPodSandbox(deadline_ctx().get(), v1::ListPodSandboxRequest(), &res).ok()) return 999;
  return static_cast<size_t>(res.items_size());
}

// `n` entries whose keys and values make about `bytes` in all.
void fill(google::protobuf::Map<std::string, std::string>* m, size_t bytes, size_t n) {
  const size_t each = bytes / n;
  for (size_t i = 0; i < n; ++i) (*m)["example.com/key-" + std::to_string(i)] = std::string(each, 'v');
}

// As kubelet sends it: /var/log/pods/<namespace>_<name>_<uid> (here under
// the test's directory).
v1::PodSandboxConfig kubelet_pod(Daemon& d, const std::string& name) {
  auto c = pod_config(name);
  const auto& m = c.metadata();
  c.set_log_directory(d.dir() / ("var/log/pods/" + m.namespace_() + "_" + m.name() + "_" + m.uid()));
  return c;
}

v1::Mount host_mount(const std::string& host, const std::string& inside, bool readonly = false) {
  v1::Mount m;
  m.set_host_path(host);
  m.set_container_path(inside);
  m.set_readonly(readonly);
  return m;
}

TEST(HostileInput, PodConfigsAreRefusedNamingTheField) {
  ContainerEnv env;
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  const std::vector<std::pair<std::string, std::function<void(v1::PodSandboxConfig&)>>> cases = {
      {"config.log_directory", [&](auto& c) { c.set_log_directory(env.daemon.dir() / "var/log/pods/../../../etc"); }},
      {"config.log_directory", [](auto& c) { c.set_log_directory("var/log/pods/relative"); }},
      {"config.log_directory", [](auto& c) { c.set_log_directory(std::string("/var/log/pods/a\0b", 17)); }},
      {"config.metadata.name", [](auto& c) { c.mutable_metadata()->set_name("../../etc"); }},
      {"config.metadata.name", [](auto& c) { c.mutable_metadata()->set_name(std::string("web\0x", 5)); }},
      {"config.metadata.namespace", [](auto& c) { c.mutable_metadata()->set_namespace_("default\nevil"); }},
      {"config.metadata.uid", [](auto& c) { c.mutable_metadata()->set_uid("u1;K8S_POD_NAME=other"); }},
      {"config.metadata.name", [](auto& c) { c.mutable_metadata()->set_name(std::string(100 << 10, 'a')); }},
      {"config.dns_config.searches[0]",
       [](auto& c) { c.mutable_dns_config()->add_searches("svc.local\nnameserver 203.0.113.9"); }},
      {"config.labels", [](auto& c) { fill(c.mutable_labels(), 3 << 20, 4096); }},
      {"config.annotations", [](auto& c) { fill(c.mutable_annotations(), 3 << 20, 16); }},
  };
  for (const auto& [field, change] : cases) {
    auto c = kubelet_pod(env.daemon, "hostile");
    change(c);
    std::string id;
    expect_refused(run_pod(env.daemon, c, &id), field, field);
    EXPECT_EQ(pod_count(env.daemon), 0u) << field;
  }
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);

  // What kubelet sends: its log directory, 256 KiB of annotations (the API
  // server's cap), many labels, a dotted name.
  auto ok = kubelet_pod(env.daemon, "web-0.example");
  fill(ok.mutable_annotations(), 256 << 10, 8);
  fill(ok.mutable_labels(), 60 << 10, 1000);
  ok.mutable_dns_config()->add_searches("crius-test.svc.cluster.local");
  std::string id;
  auto s = run_pod(env.daemon, ok, &id);
  ASSERT_TRUE(s.ok()) << s.error_message().substr(0, 300);
  EXPECT_EQ(pod_status(env.daemon, id, false).status().annotations_size(), ok.annotations_size());
  ASSERT_TRUE(remove_pod(env.daemon, id).ok());
}

// A pod with one container made and removed already, so that what stays
// for good (the image's layer links, the monitor's directory) is there
// before the refusals are compared against it.
struct PodWithHistory {
  PodWithHistory() {
    const auto config = kubelet_pod(env.daemon, "hostile");
    const auto s = run_pod(env.daemon, config, &pod);
    if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message());
    env.pods[pod] = config;
    const auto first = env.create(pod, container_config("first", env.image, {"true"}), false);
    if (!remove_container(env.daemon, first).ok()) throw std::runtime_error("RemoveContainer failed");
  }
  ContainerEnv env;
  std::string pod;
};

TEST(HostileInput, ContainerConfigsAreRefusedNamingTheField) {
  PodWithHistory h;
  ContainerEnv& env = h.env;
  const TempDir host;
  // Symbolic links some pod could have planted in a host directory.
  fs::create_symlink("/proc/self", host / "to-proc");
  fs::create_symlink("/sys/kernel", host / "to-sys");
  fs::create_symlink(env.daemon.dir() / "state", host / "to-state");
  fs::create_symlink(env.daemon.dir() / "root/not-yet", host / "to-root-dangling");
  fs::create_symlink("/proc/1/root" + env.daemon.dir().path(), host / "through-proc");
  const std::string missing = host / "created-only-if-accepted";

  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  const auto mounts_before = mounts_under(env.daemon.dir().path());
  using Change = std::function<void(v1::ContainerConfig&)>;
  const std::vector<std::pair<std::string, Change>> cases = {
      {"config.log_path", [](auto& c) { c.set_log_path("../../../../../../etc/cron.d/evil"); }},
      {"config.log_path", [](auto& c) { c.set_log_path("app/../../other-pod/0.log"); }},
      {"config.log_path", [](auto& c) { c.set_log_path("/etc/evil.log"); }},
      {"config.metadata.name", [](auto& c) { c.mutable_metadata()->set_name("a/b"); }},
      {"config.metadata.name", [](auto& c) { c.mutable_metadata()->set_name(std::string("a\x01", 2)); }},
      // The first mount's missing host directory must not be made.
      {"config.mounts[1].container_path",
       [&](auto& c) {
         *c.add_mounts() = host_mount(missing, "/data");
         *c.add_mounts() = host_mount(missing, "relative/data");
       }},
      {"config.mounts[1].host_path",
       [&](auto& c) {
         *c.add_mounts() = host_mount(missing, "/data");
         *c.add_mounts() = host_mount(host / "to-proc", "/p");
       }},
      {"config.mounts[0].host_path", [&](auto& c) { *c.add_mounts() = host_mount(host / "to-proc/root", "/p"); }},
      {"config.mounts[0].host_path", [&](auto& c) { *c.add_mounts() = host_mount(host / "to-sys", "/s"); }},
      {"config.mounts[0].host_path", [&](auto& c) { *c.add_mounts() = host_mount(host / "to-state/ns", "/s"); }},
      {"config.mounts[0].host_path", [&](auto& c) { *c.add_mounts() = host_mount(host / "to-root-dangling/x", "/r"); }},
      {"config.mounts[0].host_path", [&](auto& c) { *c.add_mounts() = host_mount(host / "through-proc/state", "/r"); }},
      {"config.labels", [](auto& c) { fill(c.mutable_labels(), 3 << 20, 64); }},
      {"config.annotations", [](auto& c) { fill(c.mutable_annotations(), 3 << 20, 64); }},
      {"config.envs[0]",
       [](auto& c) {
         auto* e = c.add_envs();
         e->set_key("BIG");
         e->set_value(std::string(1 << 20, 'x'));
       }},
      {"config.envs, config.command and config.args",
       [](auto& c) {
         for (int i = 0; i < 80; ++i) {
           auto* e = c.add_envs();
           e->set_key("V" + std::to_string(i));
           e->set_value(std::string(100 << 10, 'x'));
         }
       }},
      {"config.image.image",
       [](auto& c) { c.mutable_image()->set_image("registry.example/" + std::string(100000, 'a')); }},
  };
  for (const auto& [field, change] : cases) {
    auto c = container_config("hostile", env.image, {"sleep", "3600"});
    change(c);
    std::string id;
    expect_refused(create_container(env.daemon, h.pod, c, env.pods[h.pod], &id), field, field);
    EXPECT_EQ(container_count(env.daemon), 0u) << field;
  }
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_FALSE(fs::exists(env.daemon.dir() / "root/not-yet"));
  EXPECT_FALSE(fs::exists(env.daemon.dir() / "etc"));
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
  EXPECT_EQ(mounts_under(env.daemon.dir().path()), mounts_before);
  // None of the refused ones was ever made, not even for a moment.
  std::istringstream log(env.daemon.log());
  for (std::string line; std::getline(log, line);)
    EXPECT_FALSE(line.find("container created") != std::string::npos && line.find("container=hostile") != std::string::npos)
        << line;
}

TEST(HostileInput, KubeletShapedContainersStillWork) {
  PodWithHistory h;
  ContainerEnv& env = h.env;
  const TempDir host;
  fs::create_directories(host / "data");
  write_file(host / "data/hello", "hi\n");
  fs::create_symlink(host / "data", host / "link-to-data");

  auto c = container_config("app", env.image, {"sleep", "3600"});
  c.set_log_path("app/0.log");
  // A hostPath that is a symbolic link to an ordinary directory, /proc and
  // /sys named outright (node exporters mount them), and the daemon's socket
  // named outright (as node agents mount a runtime's socket).
  *c.add_mounts() = host_mount(host / "link-to-data", "/data", true);
  *c.add_mounts() = host_mount("/proc", "/host/proc", true);
  *c.add_mounts() = host_mount("/sys", "/host/sys", true);
  *c.add_mounts() = host_mount(env.daemon.socket(), "/run/crius.sock", true);
  // Relative-looking but absolute after cleaning, as kubelet may pass it on.
  *c.add_mounts() = host_mount(host / "data/../data", "/data2/./x/..", true);
  fill(c.mutable_annotations(), 200 << 10, 4);
  for (int i = 0; i < 300; ++i) {
    auto* e = c.add_envs();
    e->set_key("SERVICE_" + std::to_string(i) + "_PORT");
    e->set_value("tcp://10.96.0." + std::to_string(i % 250) + ":443");
  }
  const std::string id = env.create(h.pod, c);
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/data/hello"}).out, "hi\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/data2/hello"}).out, "hi\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"test", "-d", "/host/proc/1"}).exit_code, 0);
  EXPECT_EQ(exec_sync(env.daemon, id, {"test", "-d", "/host/sys/kernel"}).exit_code, 0);
  EXPECT_EQ(exec_sync(env.daemon, id, {"test", "-S", "/run/crius.sock"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(env.pods[h.pod].log_directory() + "/app/0.log"));

  // An ExecSync of a 1 MiB argument, which execve(2) cannot take; 64 KiB is fine.
  auto big = exec_sync(env.daemon, id, {"echo", std::string(1 << 20, 'x')});
  expect_refused(big.status, "cmd[1]", "ExecSync of 1 MiB");
  auto fine = exec_sync(env.daemon, id, {"echo", std::string(64 << 10, 'x')});
  ASSERT_TRUE(fine.status.ok()) << fine.status.error_message().substr(0, 300);
  EXPECT_EQ(fine.out.size(), (64u << 10) + 1);
  ASSERT_TRUE(remove_pod(env.daemon, h.pod).ok());
}

TEST(HostileInput, ImageReferencesOf100kBAreRefused) {
  ContainerEnv env;
  v1::ListImagesResponse listed;
  ASSERT_TRUE(env.daemon.image()->ListImages(deadline_ctx().get(), v1::ListImagesRequest(), &listed).ok());
  const std::string huge = "registry.example/" + std::string(100000, 'a') + ":latest";

  v1::PullImageRequest pull;
  pull.mutable_image()->set_image(huge);
  v1::PullImageResponse pulled;
  expect_refused(env.daemon.image()->PullImage(deadline_ctx().get(), pull, &pulled), "image.image", "PullImage");
  v1::ImageStatusRequest status;
  status.mutable_image()->set_image(huge);
  v1::ImageStatusResponse st;
  expect_refused(env.daemon.image()->ImageStatus(deadline_ctx().get(), status, &st), "image.image", "ImageStatus");
  v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image(huge);
  v1::RemoveImageResponse removed;
  expect_refused(env.daemon.image()->RemoveImage(deadline_ctx().get(), remove, &removed), "image.image", "RemoveImage");

  v1::ListImagesResponse again;
  ASSERT_TRUE(env.daemon.image()->ListImages(deadline_ctx().get(), v1::ListImagesRequest(), &again).ok());
  EXPECT_EQ(again.images_size(), listed.images_size());
  // The test image's own reference still answers.
  status.mutable_image()->set_image(env.image);
  ASSERT_TRUE(env.daemon.image()->ImageStatus(deadline_ctx().get(), status, &st).ok());
  EXPECT_TRUE(st.has_image());
}

}  // namespace
}  // namespace crius::test
