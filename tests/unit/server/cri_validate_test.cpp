// The hostile-input checks of server/cri_validate: each refusal names its
// field; what kubelet sends passes. Host paths are tried against a daemon
// whose root and state are temporary directories.
#include "server/cri_validate.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <tuple>
#include <vector>

#include "base/error.h"

namespace crius::server {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;

// The message of the InvalidArgument `f` throws, or "" when it passes.
std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(call, field)                       \
  do {                                                    \
    const std::string m = refusal([&] { call; });         \
    EXPECT_EQ(m.rfind(field ": ", 0), 0u) << "[" << m << "]"; \
  } while (0)

struct Host {
  Host() {
    char tmpl[] = "/tmp/crius-validate-XXXXXX";
    dir = ::mkdtemp(tmpl);
    daemon.root = dir / "root";
    daemon.state = dir / "state";
    fs::create_directories(daemon.root);
    fs::create_directories(fs::path(daemon.state) / "ns");
    fs::create_directories(dir / "data");
  }
  ~Host() { fs::remove_all(dir); }
  std::string link(const std::string& name, const fs::path& target) {
    fs::create_symlink(target, dir / name);
    return dir / name;
  }
  v1::ContainerConfig mounting(const std::string& host_path) const {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name("app");
    auto* m = c.add_mounts();
    m->set_host_path(host_path);
    m->set_container_path("/mnt");
    return c;
  }
  fs::path dir;
  conf::Config daemon;
};

v1::PodSandboxConfig kubelet_pod() {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name("web-0");
  c.mutable_metadata()->set_namespace_("default");
  c.mutable_metadata()->set_uid("0f5a4c3e-8d2b-4f7e-9c1a-2b3c4d5e6f70");
  c.set_log_directory("/var/log/pods/default_web-0_0f5a4c3e-8d2b-4f7e-9c1a-2b3c4d5e6f70");
  (*c.mutable_annotations())["kubernetes.io/config.seen"] = "2026-01-01T00:00:00Z";
  return c;
}

TEST(CriValidate, KubeletsPodPasses) { EXPECT_EQ(refusal([] { check_pod_config(kubelet_pod()); }), ""); }

TEST(CriValidate, PodNamesAndLogDirectory) {
  auto c = kubelet_pod();
  c.mutable_metadata()->set_name("a/b");
  EXPECT_REFUSED(check_pod_config(c), "config.metadata.name");
  c = kubelet_pod();
  c.mutable_metadata()->set_namespace_(std::string("ns\0x", 4));
  EXPECT_REFUSED(check_pod_config(c), "config.metadata.namespace");
  c = kubelet_pod();
  c.mutable_metadata()->set_uid("u;IgnoreUnknown=0");
  EXPECT_REFUSED(check_pod_config(c), "config.metadata.uid");
  c = kubelet_pod();
  c.set_log_directory("/var/log/pods/../../etc");
  EXPECT_REFUSED(check_pod_config(c), "config.log_directory");
  c.set_log_directory("pods/x");
  EXPECT_REFUSED(check_pod_config(c), "config.log_directory");
  c.set_log_directory("");  // no logs
  EXPECT_EQ(refusal([&] { check_pod_config(c); }), "");
}

TEST(CriValidate, MetadataSizes) {
  auto c = kubelet_pod();
  for (int i = 0; i < 40; ++i) (*c.mutable_annotations())["k" + std::to_string(i)] = std::string(64 << 10, 'v');
  EXPECT_REFUSED(check_pod_config(c), "config.annotations");
  c = kubelet_pod();
  (*c.mutable_annotations())["kubectl.kubernetes.io/last-applied-configuration"] = std::string(256 << 10, 'v');
  EXPECT_EQ(refusal([&] { check_pod_config(c); }), "") << "the API server's own cap";
}

TEST(CriValidate, LogPathStaysInTheLogDirectory) {
  Host h;
  auto c = h.mounting(h.dir / "data");
  c.set_log_path("app/0.log");
  EXPECT_EQ(refusal([&] { check_container_config(c, h.daemon); }), "");
  c.set_log_path("../other/0.log");
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.log_path");
  c.set_log_path("/etc/evil");
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.log_path");
  c.set_log_path("app/0.log\n");
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.log_path");
}

TEST(CriValidate, HostPathsNamedOutrightPass) {
  Host h;
  for (const std::string p : {"/proc", "/sys", "/sys/fs/cgroup", "/", "/dev", "/etc/hosts"})
    EXPECT_EQ(refusal([&] { check_container_config(h.mounting(p), h.daemon); }), "") << p;
  // The daemon's own directories, named (as agents mount a runtime's socket).
  EXPECT_EQ(refusal([&] { check_container_config(h.mounting(h.daemon.state + "/crius.sock"), h.daemon); }), "");
  EXPECT_EQ(refusal([&] { check_container_config(h.mounting(h.daemon.root), h.daemon); }), "");
  // A link to an ordinary place, and a missing path kubelet wants made.
  EXPECT_EQ(refusal([&] { check_container_config(h.mounting(h.link("data-link", h.dir / "data")), h.daemon); }), "");
  EXPECT_EQ(refusal([&] { check_container_config(h.mounting(h.dir / "data/new/dir"), h.daemon); }), "");
}

TEST(CriValidate, LinksIntoGuardedPlacesAreRefused) {
  Host h;
  for (const auto& [name, target, sub] : std::vector<std::tuple<std::string, fs::path, std::string>>{
           {"to-proc", "/proc/self", ""},
           {"to-proc-root", "/proc/self", "/root"},  // leaves /proc again, for "/"
           {"to-sys", "/sys/kernel", ""},
           {"to-state", h.daemon.state, "/ns"},
           {"to-root-missing", h.daemon.root + "/not-yet", "/x"},   // dangling
           {"relative", "../" + h.dir.filename().string() + "/state", ""},
       }) {
    const std::string path = h.link(name, target) + sub;
    EXPECT_REFUSED(check_container_config(h.mounting(path), h.daemon), "config.mounts[0].host_path");
  }
}

// FHS lets /var/run be a link to /run: agents mounting a runtime's socket
// often write /var/run/<runtime>/<runtime>.sock, which names the state
// directory under /run outright.
TEST(CriValidate, VarRunNamesRun) {
  std::error_code ec;
  if (!fs::is_symlink("/var/run", ec) || fs::canonical("/var/run", ec) != "/run")
    GTEST_SKIP() << "/var/run is not a link to /run";
  Host h;
  const std::string name = h.dir.filename();
  h.daemon.state = "/run/" + name;  // never made: only compared
  EXPECT_EQ(refusal([&] { check_container_config(h.mounting("/var/run/" + name + "/crius.sock"), h.daemon); }), "");
  EXPECT_REFUSED(check_container_config(h.mounting(h.link("planted", h.daemon.state + "/ns")), h.daemon),
                 "config.mounts[0].host_path");
}

TEST(CriValidate, MountPathsAreCheckedBeforeAnyLink) {
  Host h;
  auto c = h.mounting(h.dir / "missing");
  auto* m = c.add_mounts();
  m->set_host_path("/data");
  m->set_container_path("data");
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.mounts[1].container_path");
  m->set_container_path("/data");
  m->set_host_path("relative");
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.mounts[1].host_path");
  EXPECT_FALSE(fs::exists(h.dir / "missing"));
}

TEST(CriValidate, ProcessStringsFitExecve) {
  Host h;
  auto c = h.mounting("/tmp");
  auto* e = c.add_envs();
  e->set_key("BIG");
  e->set_value(std::string(1 << 20, 'x'));
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.envs[0]");
  c.clear_envs();
  for (int i = 0; i < 80; ++i) {
    auto* v = c.add_envs();
    v->set_key("V" + std::to_string(i));
    v->set_value(std::string(100 << 10, 'x'));
  }
  EXPECT_REFUSED(check_container_config(c, h.daemon), "config.envs, config.command and config.args");

  google::protobuf::RepeatedPtrField<std::string> cmd;
  cmd.Add("echo");
  cmd.Add(std::string(1 << 20, 'x'));
  EXPECT_REFUSED(check_exec_cmd(cmd), "cmd[1]");
  cmd.Mutable(1)->assign(64 << 10, 'x');
  EXPECT_EQ(refusal([&] { check_exec_cmd(cmd); }), "");
}

TEST(CriValidate, ImageReferences) {
  EXPECT_REFUSED(check_image_ref("r.example/" + std::string(100000, 'a'), "image.image"), "image.image");
  EXPECT_EQ(refusal([] {
              check_image_ref("registry.k8s.io/pause:3.10@sha256:" + std::string(64, 'a'), "image.image");
            }),
            "");
  // The message shows a bounded piece of the value.
  EXPECT_LT(refusal([] { check_image_ref(std::string(100000, 'a'), "image.image"); }).size(), 300u);
}

}  // namespace
}  // namespace crius::server
