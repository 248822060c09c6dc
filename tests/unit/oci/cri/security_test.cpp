// Capabilities, privileged, masked paths, seccomp and AppArmor.
#include "tests/unit/oci/cri/cri_spec_fixture.h"

namespace crius::oci::cri::testing {
namespace {

using CriSpecSecurity = CriSpecTest;

const std::vector<std::string> kCrioDefault = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",
                                               "CAP_FOWNER", "CAP_SETGID",       "CAP_SETUID",
                                               "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL"};

std::vector<std::string> caps_of(const json& spec, const std::string& set) {
  return spec["process"]["capabilities"][set].get<std::vector<std::string>>();
}

TEST_F(CriSpecSecurity, DefaultCapabilitiesInEverySetButInheritable) {
  auto s = build().spec;
  for (const char* set : {"bounding", "effective", "permitted"}) EXPECT_EQ(caps_of(s, set), kCrioDefault) << set;
  EXPECT_TRUE(caps_of(s, "inheritable").empty());
  EXPECT_TRUE(caps_of(s, "ambient").empty());
}

TEST_F(CriSpecSecurity, AddAndDropWithOrWithoutPrefix) {
  sc()->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  sc()->mutable_capabilities()->add_add_capabilities("CAP_SYS_TIME");
  sc()->mutable_capabilities()->add_drop_capabilities("KILL");
  sc()->mutable_capabilities()->add_drop_capabilities("cap_chown");
  auto caps = caps_of(build().spec, "effective");
  EXPECT_TRUE(std::count(caps.begin(), caps.end(), "CAP_NET_ADMIN"));
  EXPECT_TRUE(std::count(caps.begin(), caps.end(), "CAP_SYS_TIME"));
  EXPECT_FALSE(std::count(caps.begin(), caps.end(), "CAP_KILL"));
  EXPECT_FALSE(std::count(caps.begin(), caps.end(), "CAP_CHOWN"));
  EXPECT_EQ(caps.size(), kCrioDefault.size());
}

TEST_F(CriSpecSecurity, DropAllThenAddKeepsOnlyTheAdds) {
  sc()->mutable_capabilities()->add_drop_capabilities("ALL");
  sc()->mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
  EXPECT_EQ(caps_of(build().spec, "bounding"), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
}

TEST_F(CriSpecSecurity, AddAllGivesEveryKernelCapability) {
  sc()->mutable_capabilities()->add_add_capabilities("ALL");
  sc()->mutable_capabilities()->add_drop_capabilities("SYS_ADMIN");
  auto caps = caps_of(build().spec, "bounding");
  EXPECT_EQ(caps.size() + 1, detail::all_capabilities().size());
  EXPECT_FALSE(std::count(caps.begin(), caps.end(), "CAP_SYS_ADMIN"));
}

TEST_F(CriSpecSecurity, UnknownCapabilityIsNamed) {
  sc()->mutable_capabilities()->add_add_capabilities("FLY");
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("FLY"), std::string::npos);
  sc()->mutable_capabilities()->clear_add_capabilities();
  defaults_.default_capabilities.push_back("NOPE");
  EXPECT_NE(std::string(error().what()).find("NOPE"), std::string::npos);
}

TEST_F(CriSpecSecurity, AmbientCapabilitiesAreAlsoInheritableAndPermitted) {
  sc()->mutable_capabilities()->add_drop_capabilities("ALL");
  sc()->mutable_capabilities()->add_add_ambient_capabilities("NET_RAW");
  auto s = build().spec;
  EXPECT_EQ(caps_of(s, "ambient"), std::vector<std::string>{"CAP_NET_RAW"});
  EXPECT_EQ(caps_of(s, "inheritable"), std::vector<std::string>{"CAP_NET_RAW"});
  EXPECT_EQ(caps_of(s, "permitted"), std::vector<std::string>{"CAP_NET_RAW"});
}

TEST_F(CriSpecSecurity, KubeletDefaultMaskedAndReadonlyPaths) {
  auto l = build().spec["linux"];
  EXPECT_TRUE(has(l["maskedPaths"], "/proc/kcore"));
  EXPECT_TRUE(has(l["maskedPaths"], "/proc/keys"));
  EXPECT_TRUE(has(l["maskedPaths"], "/sys/firmware"));
  EXPECT_TRUE(has(l["readonlyPaths"], "/proc/sys"));
  EXPECT_TRUE(has(l["readonlyPaths"], "/proc/sysrq-trigger"));
}

TEST_F(CriSpecSecurity, GivenMaskedPathsReplaceTheDefaults) {
  sc()->add_masked_paths("/proc/secret");
  auto l = build().spec["linux"];
  EXPECT_EQ(l["maskedPaths"], json({"/proc/secret"}));
  EXPECT_EQ(l["readonlyPaths"], json::array());
}

TEST_F(CriSpecSecurity, PrivilegedHasAllCapsDevicesAndNoMasks) {
  pod_config_.mutable_linux()->mutable_security_context()->set_privileged(true);
  sc()->set_privileged(true);
  sc()->add_masked_paths("/proc/kcore");
  auto s = build().spec;
  EXPECT_EQ(caps_of(s, "bounding"), detail::all_capabilities());
  EXPECT_FALSE(s["linux"].contains("maskedPaths"));
  EXPECT_FALSE(s["linux"].contains("readonlyPaths"));
  EXPECT_FALSE(s["linux"].contains("seccomp"));
  auto rules = s["linux"]["resources"]["devices"];
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["allow"], true);
  EXPECT_EQ(rules[0]["access"], "rwm");
  bool null_dev = false;
  for (const auto& d : s["linux"].value("devices", json::array())) null_dev |= d["path"] == "/dev/null";
  EXPECT_TRUE(null_dev) << "host devices are added";
  auto opts = [&](const std::string& dst) { return (*find_mount(s, dst))["options"]; };
  EXPECT_TRUE(has(opts("/sys"), "rw"));
  EXPECT_TRUE(has(opts("/sys/fs/cgroup"), "rw"));
}

TEST_F(CriSpecSecurity, PrivilegedContainerNeedsAPrivilegedPod) {
  sc()->set_privileged(true);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecSecurity, NoNewPrivsAndReadonlyRootfs) {
  auto s = build().spec;
  EXPECT_EQ(s["process"]["noNewPrivileges"], false);
  EXPECT_EQ(s["root"]["readonly"], false);
  sc()->set_no_new_privs(true);
  sc()->set_readonly_rootfs(true);
  s = build().spec;
  EXPECT_EQ(s["process"]["noNewPrivileges"], true);
  EXPECT_EQ(s["root"]["readonly"], true);
  EXPECT_EQ(s["root"]["path"], rootfs_);
  EXPECT_TRUE(has((*find_mount(s, "/etc/resolv.conf"))["options"], "ro"));
}

// --- seccomp

TEST_F(CriSpecSecurity, NoSeccompUnlessAsked) {
  EXPECT_FALSE(build().spec["linux"].contains("seccomp"));
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_FALSE(build().spec["linux"].contains("seccomp"));
}

bool rule_allows(const json& seccomp, const std::string& name, bool unconditional = true) {
  for (const auto& r : seccomp["syscalls"])
    if (r["action"] == "SCMP_ACT_ALLOW" && CriSpecTest::has(r["names"], name) && (!unconditional || !r.contains("args")))
      return true;
  return false;
}

TEST_F(CriSpecSecurity, RuntimeDefaultIsAnAllowlistWithCapabilityRules) {
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  auto sec = build().spec["linux"]["seccomp"];
  EXPECT_EQ(sec["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(sec["defaultErrnoRet"], 1);
  EXPECT_TRUE(rule_allows(sec, "read"));
  EXPECT_TRUE(rule_allows(sec, "execve"));
  EXPECT_FALSE(rule_allows(sec, "keyctl", false));
  EXPECT_FALSE(rule_allows(sec, "add_key", false));
  EXPECT_FALSE(rule_allows(sec, "unshare", false));
  EXPECT_FALSE(rule_allows(sec, "mount", false));
  EXPECT_FALSE(rule_allows(sec, "reboot", false));
  // clone only without namespace flags.
  EXPECT_FALSE(rule_allows(sec, "clone"));
  EXPECT_TRUE(rule_allows(sec, "clone", false));
  EXPECT_FALSE(rule_allows(sec, "chroot", false)) << "CAP_SYS_CHROOT is not in the default set";

  sc()->mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
  sc()->mutable_capabilities()->add_add_capabilities("SYS_CHROOT");
  sec = build().spec["linux"]["seccomp"];
  EXPECT_TRUE(rule_allows(sec, "unshare"));
  EXPECT_TRUE(rule_allows(sec, "mount"));
  EXPECT_TRUE(rule_allows(sec, "clone"));
  EXPECT_TRUE(rule_allows(sec, "chroot"));
  EXPECT_FALSE(rule_allows(sec, "keyctl", false));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
// The deprecated string field, still sent by older kubelets.
TEST_F(CriSpecSecurity, DeprecatedSeccompPathForms) {
  for (const char* p : {"runtime/default", "docker/default"}) {
    sc()->set_seccomp_profile_path(p);
    EXPECT_EQ(build().spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO") << p;
  }
  sc()->set_seccomp_profile_path("unconfined");
  EXPECT_FALSE(build().spec["linux"].contains("seccomp"));
  write(tmp_ + "/p.json", R"({"defaultAction":"SCMP_ACT_LOG","syscalls":[]})");
  sc()->set_seccomp_profile_path("localhost/" + tmp_ + "/p.json");
  EXPECT_EQ(build().spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_LOG");
  sc()->set_seccomp_profile_path("bogus");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}
#pragma GCC diagnostic pop

TEST_F(CriSpecSecurity, LocalhostOciFormat) {
  write(tmp_ + "/oci.json", R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["keyctl", "add_key"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                 {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})");
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc()->mutable_seccomp()->set_localhost_ref(tmp_ + "/oci.json");
  auto sec = build().spec["linux"]["seccomp"];
  EXPECT_EQ(sec["defaultAction"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(sec["architectures"], json({"SCMP_ARCH_X86_64"}));
  ASSERT_EQ(sec["syscalls"].size(), 2u);
  EXPECT_EQ(sec["syscalls"][0]["errnoRet"], 38);
  EXPECT_EQ(sec["syscalls"][1]["args"][0]["value"], 8);
  EXPECT_EQ(sec["syscalls"][1]["args"][0]["op"], "SCMP_CMP_EQ");
}

TEST_F(CriSpecSecurity, LocalhostDockerFormatWithIncludesExcludesAndArchMap) {
  write(tmp_ + "/docker.json", R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
       "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
      {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
      {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
      {"names": ["futurecall"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}
    ]})");
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc()->mutable_seccomp()->set_localhost_ref(tmp_ + "/docker.json");
  auto sec = build().spec["linux"]["seccomp"];
  EXPECT_TRUE(rule_allows(sec, "getpid"));
  EXPECT_TRUE(rule_allows(sec, "write"));
  EXPECT_FALSE(rule_allows(sec, "mount", false));
  EXPECT_TRUE(rule_allows(sec, "clone", false));
  EXPECT_TRUE(rule_allows(sec, "ptrace"));
  EXPECT_FALSE(rule_allows(sec, "futurecall", false));
#if defined(__x86_64__)
  EXPECT_EQ(sec["architectures"], json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(rule_allows(sec, "arch_prctl"));
  EXPECT_FALSE(rule_allows(sec, "set_tls", false));
#endif
  for (const auto& r : sec["syscalls"]) EXPECT_FALSE(r.contains("includes") || r.contains("excludes") || r.contains("name"));

  sc()->mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
  sec = build().spec["linux"]["seccomp"];
  EXPECT_TRUE(rule_allows(sec, "mount"));
  EXPECT_FALSE(rule_allows(sec, "clone", false));
}

TEST_F(CriSpecSecurity, LocalhostErrorsNameTheProfile) {
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc()->mutable_seccomp()->set_localhost_ref(tmp_ + "/missing.json");
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos) << e.what();
  write(tmp_ + "/bad.json", "{not json");
  sc()->mutable_seccomp()->set_localhost_ref(tmp_ + "/bad.json");
  EXPECT_NE(std::string(error().what()).find("bad.json"), std::string::npos);
  write(tmp_ + "/badact.json", R"({"defaultAction":"SCMP_ACT_EXPLODE"})");
  sc()->mutable_seccomp()->set_localhost_ref(tmp_ + "/badact.json");
  EXPECT_NE(std::string(error().what()).find("SCMP_ACT_EXPLODE"), std::string::npos);
  sc()->mutable_seccomp()->set_localhost_ref("relative.json");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  defaults_.seccomp_profile_root = tmp_;
  write(tmp_ + "/relative.json", R"({"defaultAction":"SCMP_ACT_LOG"})");
  EXPECT_EQ(build().spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_LOG");
}

// As with containerd and cri-o: privileged means unconfined, whatever profile is named.
TEST_F(CriSpecSecurity, PrivilegedIgnoresTheSeccompProfile) {
  pod_config_.mutable_linux()->mutable_security_context()->set_privileged(true);
  sc()->set_privileged(true);
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  EXPECT_FALSE(build().spec["linux"].contains("seccomp"));
  sc()->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc()->mutable_seccomp()->set_localhost_ref("/nonexistent/profile.json");
  EXPECT_FALSE(build().spec["linux"].contains("seccomp"));
}

// --- AppArmor

TEST_F(CriSpecSecurity, AppArmorModes) {
  sc()->mutable_apparmor()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  EXPECT_FALSE(build().spec["process"].contains("apparmorProfile")) << "AppArmor is not enabled";
  sc()->mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_FALSE(build().spec["process"].contains("apparmorProfile"));
  sc()->mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc()->mutable_apparmor()->set_localhost_ref("my-profile");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument) << "requested while AppArmor is disabled";
  defaults_.apparmor_enabled = true;
  EXPECT_EQ(build().spec["process"]["apparmorProfile"], "my-profile");
}

}  // namespace
}  // namespace crius::oci::cri::testing
