// Capabilities, seccomp, sysctl, maskedPaths and readonlyPaths.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Security);

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

TEST_P(Security, CapabilitySetsOfRoot) {
  auto b = bundle();
  const std::vector<std::string> bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"};
  const std::vector<std::string> effective = {"CAP_CHOWN", "CAP_KILL"};
  b->spec["process"]["capabilities"] = {{"bounding", bounding},
                                        {"effective", effective},
                                        {"permitted", bounding},
                                        {"inheritable", nlohmann::json::array()},
                                        {"ambient", nlohmann::json::array()}};
  b->args({"sleep", "60"});
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  EXPECT_EQ(proc_status_field(pid, "CapBnd"), hex(cap_mask(bounding)));
  EXPECT_EQ(proc_status_field(pid, "CapPrm"), hex(cap_mask(bounding)));
  // exec as uid 0 raises effective to permitted (the kernel's rule for
  // root), whatever the spec's effective set says.
  EXPECT_EQ(proc_status_field(pid, "CapEff"), hex(cap_mask(bounding)));
  EXPECT_EQ(proc_status_field(pid, "CapInh"), hex(0));
  EXPECT_EQ(proc_status_field(pid, "CapAmb"), hex(0));
}

TEST_P(Security, AmbientCapabilitiesOfNonRoot) {
  auto b = bundle();
  const std::vector<std::string> caps = {"CAP_NET_RAW", "CAP_NET_BIND_SERVICE"};
  b->spec["process"]["capabilities"] = {
      {"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"inheritable", caps}, {"ambient", caps}};
  b->spec["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b->args({"sleep", "60"});
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  EXPECT_EQ(proc_status_field(pid, "Uid").substr(0, 4), "1000");
  // A non-root user keeps ambient capabilities across exec, and only those.
  EXPECT_EQ(proc_status_field(pid, "CapAmb"), hex(cap_mask(caps)));
  EXPECT_EQ(proc_status_field(pid, "CapEff"), hex(cap_mask(caps)));
  EXPECT_EQ(proc_status_field(pid, "CapBnd"), hex(cap_mask(caps)));
}

TEST_P(Security, MissingCapabilityIsEnforced) {
  auto b = bundle();
  const std::vector<std::string> caps = {"CAP_KILL"};  // no CAP_CHOWN
  b->spec["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  b->sh("touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chown-ok || echo chown-denied");
  auto r = rt().run(unique_id("caps"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "chown-denied\n") << r.describe();
}

nlohmann::json seccomp_allow_all_but(const nlohmann::json& syscalls) {
  return {{"defaultAction", "SCMP_ACT_ALLOW"},
          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
          {"syscalls", syscalls}};
}

TEST_P(Security, SeccompBlockedSyscallReturnsConfiguredErrno) {
  auto b = bundle();
  // ENOSPC rather than EPERM: EPERM is also what a runtime returns when it
  // ignores errnoRet, so a distinctive errno proves errnoRet is honoured.
  b->spec["linux"]["seccomp"] =
      seccomp_allow_all_but({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 28}},
                             {{"names", {"rmdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}});
  b->sh("mkdir /tmp/d 2>&1; rmdir /tmp 2>&1; touch /tmp/still-works && echo touch-ok");
  auto r = rt().run(unique_id("seccomp"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("touch-ok"), std::string::npos) << r.describe();
  EXPECT_FALSE(fs::exists(b->rootfs() / "tmp/d"));
}

TEST_P(Security, SeccompArgumentConditions) {
  auto b = bundle();
  // kill(pid, 0) is refused, kill(pid, SIGCHLD) (ignored by default) is not.
  b->spec["linux"]["seccomp"] =
      seccomp_allow_all_but({{{"names", {"kill"}},
                              {"action", "SCMP_ACT_ERRNO"},
                              {"errnoRet", 1},
                              {"args", {{{"index", 1}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}}});
  b->sh(
      "kill -0 $$ 2>/dev/null && echo sig0=allowed || echo sig0=blocked; "
      "kill -CHLD $$ && echo sigchld=allowed || echo sigchld=blocked");
  auto r = rt().run(unique_id("seccomp"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "sig0=blocked\nsigchld=allowed\n") << r.describe();
}

TEST_P(Security, SeccompKillProcess) {
  auto b = bundle();
  b->spec["linux"]["seccomp"] =
      seccomp_allow_all_but({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}});
  b->remove_namespace("pid");  // so that the shell's death is not pid 1's special case
  b->args({"mkdir", "/tmp/d"});
  auto r = rt().run(unique_id("seccomp"), *b);
  EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "mkdir must be killed by SIGSYS\n" << r.describe();
  EXPECT_FALSE(fs::exists(b->rootfs() / "tmp/d"));
}

TEST_P(Security, ApparmorProfileWithoutApparmorFailsClearly) {
  std::string enabled = read_file("/sys/module/apparmor/parameters/enabled");
  if (!enabled.empty() && enabled[0] == 'Y') GTEST_SKIP() << "this host has AppArmor";
  auto b = bundle();
  b->spec["process"]["apparmorProfile"] = "crius-test-profile";
  b->args({"true"});
  const std::string id = unique_id("aa");
  auto r = rt().run(id, *b);
  rt().del(id, true);
  EXPECT_NE(r.exit_code, 0) << "an AppArmor profile cannot be applied on a host without AppArmor\n" << r.describe();
  std::string err = r.err;
  std::transform(err.begin(), err.end(), err.begin(), [](unsigned char ch) { return std::tolower(ch); });
  EXPECT_NE(err.find("apparmor"), std::string::npos) << "the error should name AppArmor\n" << r.describe();
}

TEST_P(Security, SysctlInNewNamespaces) {
  auto b = bundle();
  b->spec["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "12345678"}};
  b->sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax");
  auto r = rt().run(unique_id("sysctl"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "1\n12345678\n") << r.describe();
  // The host's values are untouched.
  EXPECT_NE(read_file("/proc/sys/kernel/shmmax"), "12345678\n");
}

TEST_P(Security, SysctlOfHostNamespaceRefused) {
  auto b = bundle();
  b->remove_namespace("ipc");  // kernel.shmmax would then change the host's
  b->spec["linux"]["sysctl"] = {{"kernel.shmmax", "12345679"}};
  b->args({"true"});
  const std::string before = read_file("/proc/sys/kernel/shmmax");
  const std::string id = unique_id("sysctl");
  auto r = rt().run(id, *b);
  rt().del(id, true);
  EXPECT_NE(r.exit_code, 0) << "an ipc sysctl without a new ipc namespace must be refused\n" << r.describe();
  const std::string after = read_file("/proc/sys/kernel/shmmax");
  if (after != before) write_file("/proc/sys/kernel/shmmax", before);  // put the host back
  EXPECT_EQ(after, before) << "the host's sysctl changed";
}

TEST_P(Security, MaskedPaths) {
  auto b = bundle();
  fs::create_directories(b->rootfs() / "secret-dir");
  write_file(b->rootfs() / "secret-dir/key", "dir-secret\n");
  write_file(b->rootfs() / "secret-file", "file-secret\n");
  b->spec["linux"]["maskedPaths"] = {"/secret-dir", "/secret-file", "/proc/keys", "/does/not/exist"};
  b->sh(
      "cat /secret-file; echo \"[$(ls -A /secret-dir)]\"; "
      "touch /secret-dir/x 2>/dev/null && echo dir-writable || echo dir-readonly; "
      "stat -c '%t:%T' /proc/keys");
  auto r = rt().run(unique_id("masked"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  // A masked file reads empty (/dev/null on it); a masked directory is an
  // empty read-only tmpfs; /proc/keys is /dev/null (1:3).
  EXPECT_EQ(r.out, "[]\ndir-readonly\n1:3\n") << r.describe();
}

TEST_P(Security, ReadonlyPaths) {
  auto b = bundle();
  fs::create_directories(b->rootfs() / "ro-dir");
  write_file(b->rootfs() / "ro-dir/data", "keep\n");
  b->spec["linux"]["readonlyPaths"] = {"/ro-dir", "/proc/sys", "/does/not/exist"};
  b->sh(
      "cat /ro-dir/data; echo changed > /ro-dir/data 2>/dev/null && echo writable || echo readonly; "
      "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-readonly; "
      "touch /tmp/ok && echo rest-writable");
  auto r = rt().run(unique_id("ro"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "keep\nreadonly\nsys-readonly\nrest-writable\n") << r.describe();
  EXPECT_EQ(read_file(b->rootfs() / "ro-dir/data"), "keep\n");
}

TEST_P(Security, ExeIsTheContainersBinary) {
  // After start, /proc/<pid>/exe is the container's program: nothing of the
  // runtime binary stays reachable through the container's init.
  auto b = bundle();
  b->args({"sleep", "60"});
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(exe.filename(), "busybox") << exe;
  EXPECT_NE(exe.filename(), fs::path(rt().binary()).filename()) << exe;
}

}  // namespace
}  // namespace crius::testing::rt
