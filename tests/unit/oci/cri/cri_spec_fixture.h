// A fake image rootfs in a temp dir and a typical pod, for the CRI spec
// builder tests.
#pragma once

// The proto header before anything that may pull in <signal.h>.
#include "oci/cri/spec_builder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.h"
#include "oci/cri/internal.h"
#include "oci/cri/spec_builder.h"
#include "oci/runtime/spec.h"

namespace crius::oci::cri::testing {

namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;
using nlohmann::json;

class CriSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "crius-cri-spec-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    tmp_ = t;
    rootfs_ = tmp_ + "/rootfs";
    fs::create_directories(rootfs_ + "/etc");
    write(rootfs_ + "/etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "app:x:1000:1000:App:/home/app:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    write(rootfs_ + "/etc/group",
          "root:x:0:\n"
          "wheel:x:10:app,root\n"
          "app:x:1000:\n"
          "staff:x:50:app\n"
          "video:x:44:\n"
          "nogroup:x:65534:\n");

    config_.mutable_metadata()->set_name("web");
    config_.mutable_image()->set_image("docker.io/library/busybox:latest");
    config_.set_log_path("web/0.log");
    pod_config_.mutable_metadata()->set_name("pod-a");
    pod_config_.mutable_metadata()->set_namespace_("default");
    pod_config_.mutable_metadata()->set_uid("uid-123");
    pod_config_.set_log_directory("/var/log/pods/default_pod-a_uid-123");
    image_.cmd = {"sh"};
    image_.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};

    pod_.pod_id = "podid";
    pod_.hostname = "pod-a";
    pod_.namespaces = {{"net", "/run/crius/ns/net/podid"}, {"ipc", "/run/crius/ns/ipc/podid"},
                       {"uts", "/run/crius/ns/uts/podid"}};
    pod_.pid_ns_path = "/proc/4242/ns/pid";
    pod_.hostname_path = "/run/crius/sandboxes/podid/hostname";
    pod_.resolv_conf_path = "/run/crius/sandboxes/podid/resolv.conf";
    pod_.shm_path = "/run/crius/sandboxes/podid/shm";
    pod_.cgroup_parent = "/kubepods/besteffort/poduid-123";
    defaults_.default_capabilities = {"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID",
                                      "SETUID", "SETPCAP", "NET_BIND_SERVICE", "KILL"};
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }


 public:
  static void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }

  v1::LinuxContainerSecurityContext* sc() { return config_.mutable_linux()->mutable_security_context(); }

  BuiltSpec build() {
    BuiltSpec b = build_spec("ctrid", config_, pod_config_, image_, rootfs_, pod_, defaults_);
    // Every spec must be one the builtin runtime accepts.
    EXPECT_NO_THROW(crius::oci::parse_spec(b.spec)) << b.spec.dump(2);
    return b;
  }

  // The crius::Error thrown by build(); fails the test if none.
  crius::Error error() {
    try {
      build_spec("ctrid", config_, pod_config_, image_, rootfs_, pod_, defaults_);
    } catch (const crius::Error& e) {
      return e;
    }
    ADD_FAILURE() << "build_spec accepted the config";
    return crius::Internal("no error");
  }

  static const json* find_mount(const json& spec, const std::string& dst) {
    for (const auto& m : spec["mounts"])
      if (m["destination"] == dst) return &m;
    return nullptr;
  }
  static bool has(const json& arr, const std::string& v) {
    for (const auto& e : arr)
      if (e == v) return true;
    return false;
  }
  static const json* find_ns(const json& spec, const std::string& type) {
    for (const auto& n : spec["linux"]["namespaces"])
      if (n["type"] == type) return &n;
    return nullptr;
  }

  std::string tmp_, rootfs_;
  v1::ContainerConfig config_;
  v1::PodSandboxConfig pod_config_;
  ImageConfig image_;
  PodContext pod_;
  Defaults defaults_;
};

}  // namespace crius::oci::cri::testing
