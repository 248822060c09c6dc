// Specs from build_spec run for real: under runc (the reference) and
// crius-runtime, with the RuntimeDefault seccomp profile, the default
// capability set and kubelet's masked paths.
#include "oci/cri/spec_builder.h"  // first: the proto's Signal enum vs <signal.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "tests/integration/runtime/harness.h"

namespace crius::testing::cri_spec {
namespace {

using namespace crius::testing::rt;
namespace v1 = ::runtime::v1;
namespace cri = crius::oci::cri;

struct Param {
  std::string name, binary;
};
void PrintTo(const Param& p, std::ostream* os) { *os << p.name; }

std::vector<Param> runtimes() {
  std::vector<Param> v;
#ifdef CRIUS_RUNC_PATH
  v.push_back({"runc", CRIUS_RUNC_PATH});
#endif
#ifdef CRIUS_CRUN_PATH
  v.push_back({"crun", CRIUS_CRUN_PATH});
#endif
#ifdef CRIUS_RUNTIME_PATH
  v.push_back({"crius_runtime", CRIUS_RUNTIME_PATH});
#endif
  return v;
}

const std::vector<std::string> kDefaultCaps = {"CHOWN",  "DAC_OVERRIDE", "FSETID",           "FOWNER", "SETGID",
                                               "SETUID", "SETPCAP",      "NET_BIND_SERVICE", "KILL"};

class CriSpecRun : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access(GetParam().binary.c_str(), X_OK) != 0) GTEST_SKIP() << GetParam().binary << " not found";
    tmp_ = std::make_unique<TempDir>("crius-cri-spec-");
    rt_ = std::make_unique<Runtime>(GetParam().name, GetParam().binary, tmp_->path() / "state");
    write_file(tmp_->path() / "hostname", "cri-pod\n");
    write_file(tmp_->path() / "resolv.conf", "nameserver 127.0.0.1\n");
    config_.mutable_metadata()->set_name("c");
    // No pinned pod namespaces here: the container gets new ones.
    sc()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  }

  v1::LinuxContainerSecurityContext* sc() { return config_.mutable_linux()->mutable_security_context(); }

  // Builds the spec for `script` and runs it to completion.
  Result run(const std::string& script) {
    config_.clear_command();
    config_.add_command("sh");
    config_.add_command("-c");
    config_.add_command(script);
    const std::string id = unique_id("cri");
    Bundle b(tmp_->path() / id);
    cri::PodContext pod;
    pod.pod_id = "pod";
    pod.hostname = "cri-pod";
    pod.hostname_path = (tmp_->path() / "hostname").string();
    pod.resolv_conf_path = (tmp_->path() / "resolv.conf").string();
    cri::Defaults d;
    d.default_capabilities = kDefaultCaps;
    d.oom_score_adj_can_lower = true;
    cri::ImageConfig image;
    auto built = cri::build_spec(id, config_, pod_config_, image, b.rootfs().string(), pod, d);
    b.spec = built.spec;
    Result r = rt_->run(id, b, std::chrono::seconds(20));
    rt_->del(id, true);
    return r;
  }

  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<Runtime> rt_;
  v1::ContainerConfig config_;
  v1::PodSandboxConfig pod_config_;
};

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST_P(CriSpecRun, TrueRuns) {
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  Result r = run("true");
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST_P(CriSpecRun, RuntimeDefaultSeccompBlocksUserNamespacesOnly) {
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  Result r = run("ls / >/dev/null && echo ls-ok; unshare -U true 2>&1; echo unshare-rc=$?; "
                 "sh -c 'echo child-ok'");
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_CONTAINS(r.out, "ls-ok");
  EXPECT_CONTAINS(r.out, "child-ok");  // fork/clone without namespace flags
  EXPECT_CONTAINS(r.out, "Operation not permitted");
  EXPECT_CONTAINS(r.out, "unshare-rc=1");
}

TEST_P(CriSpecRun, CapEffIsTheDefaultSet) {
  Result r = run("grep CapEff /proc/self/status");
  ASSERT_TRUE(r.ok()) << r.describe();
  std::vector<std::string> names;
  for (const auto& c : kDefaultCaps) names.push_back("CAP_" + c);
  char want[32];
  std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(cap_mask(names)));
  EXPECT_CONTAINS(r.out, want);
}

TEST_P(CriSpecRun, MaskedAndReadonlyPaths) {
  Result r = run("echo timer-list=$(cat /proc/timer_list | wc -c); echo timer-list-mounts=$(grep -c ' /proc/timer_list ' "
                 "/proc/self/mountinfo); grep ' /proc/sys ' /proc/self/mountinfo");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_CONTAINS(r.out, "timer-list=0") << r.err;
  EXPECT_CONTAINS(r.out, "timer-list-mounts=1");  // /dev/null over it
  EXPECT_CONTAINS(r.out, " ro,");
}

TEST_P(CriSpecRun, UserGroupsHostnameAndPodFiles) {
  sc()->mutable_run_as_user()->set_value(1000);
  Result r = run("id -u; id -G; hostname; cat /etc/resolv.conf; echo HOSTNAME=$HOSTNAME");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_CONTAINS(r.out, "1000\n1000 2000\n");  // app is a member of "extra" in the fixture
  EXPECT_CONTAINS(r.out, "cri-pod\n");
  EXPECT_CONTAINS(r.out, "nameserver 127.0.0.1");
  EXPECT_CONTAINS(r.out, "HOSTNAME=cri-pod");
}

TEST_P(CriSpecRun, ReadonlyRootfsAndNoNewPrivs) {
  sc()->set_readonly_rootfs(true);
  sc()->set_no_new_privs(true);
  Result r = run("touch /x 2>&1; grep NoNewPrivs /proc/self/status; touch /dev/shm/ok && echo shm-ok");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_CONTAINS(r.out, "Read-only file system");
  EXPECT_CONTAINS(r.out, "NoNewPrivs:\t1");
  EXPECT_CONTAINS(r.out, "shm-ok");
}

TEST_P(CriSpecRun, CriMountsAndDevices) {
  const fs::path vol = tmp_->path() / "vol";
  fs::create_directories(vol);
  write_file(vol / "hello", "from-host\n");
  auto* m = config_.add_mounts();
  m->set_container_path("/data");
  m->set_host_path(vol.string());
  m->set_readonly(true);
  auto* d = config_.add_devices();
  d->set_container_path("/dev/mynull");
  d->set_host_path("/dev/null");
  d->set_permissions("rw");
  Result r = run("cat /data/hello; touch /data/x 2>&1; echo hi > /dev/mynull && echo dev-ok");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_CONTAINS(r.out, "from-host");
  EXPECT_CONTAINS(r.out, "Read-only file system");
  EXPECT_CONTAINS(r.out, "dev-ok");
}

TEST_P(CriSpecRun, PrivilegedHasEveryCapabilityAndWritableSys) {
  pod_config_.mutable_linux()->mutable_security_context()->set_privileged(true);
  sc()->set_privileged(true);
  Result r = run("grep CapEff /proc/self/status; grep ' /sys ' /proc/self/mountinfo; "
                 "echo timer-list-mounts=$(grep -c ' /proc/timer_list ' /proc/self/mountinfo)");
  ASSERT_TRUE(r.ok()) << r.describe();
  // Every capability the test (the daemon's stand-in) holds itself.
  EXPECT_CONTAINS(r.out, "CapEff:\t" + proc_status_field(::getpid(), "CapEff") + "\n");
  EXPECT_CONTAINS(r.out, " /sys rw,");
  EXPECT_CONTAINS(r.out, "timer-list-mounts=0");  // not masked
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CriSpecRun);
INSTANTIATE_TEST_SUITE_P(Runtime, CriSpecRun, ::testing::ValuesIn(runtimes()),
                         [](const ::testing::TestParamInfo<Param>& i) { return i.param.name; });

}  // namespace
}  // namespace crius::testing::cri_spec
