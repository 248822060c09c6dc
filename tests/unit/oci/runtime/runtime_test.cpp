// Pure pieces of the builtin runtime: mount options, capabilities, seccomp
// translation, rlimits, sysctls, signals, the command line, state JSON, logs.
#include <linux/capability.h>
#include <seccomp.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>

#include <gtest/gtest.h>

#include "base/error.h"
#include "oci/runtime/caps.h"
#include "oci/runtime/cli.h"
#include "oci/runtime/signals.h"
#include "oci/runtime/mounts.h"
#include "oci/runtime/namespaces.h"
#include "oci/runtime/process.h"
#include "oci/runtime/seccomp.h"
#include "oci/runtime/state.h"

namespace crius::oci::runtime {
namespace {

TEST(OciMountOptions, FlagsPropagationRecursiveAndData) {
  MountOptions o = parse_mount_options({"rbind", "ro", "nosuid", "nodev", "noexec", "relatime", "rslave", "rro",
                                        "mode=755", "size=65536k"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                                MS_RELATIME));
  ASSERT_EQ(o.propagation.size(), 1u);
  EXPECT_EQ(o.propagation[0], static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_EQ(o.data, "mode=755,size=65536k");
  EXPECT_TRUE(o.bind());
}

TEST(OciMountOptions, LaterOptionsWinAndClearFlags) {
  MountOptions o = parse_mount_options({"ro", "rw", "nosuid", "suid", "noatime", "atime"});
  EXPECT_EQ(o.flags, 0ul);
  EXPECT_FALSE(o.bind());
  MountOptions r = parse_mount_options({"rnoatime"});
  EXPECT_EQ(r.attr_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
  EXPECT_EQ(r.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  EXPECT_THROW(parse_mount_options({"idmap"}), Error);
  EXPECT_EQ(propagation_flag("rprivate"), static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_THROW(propagation_flag("sideways"), Error);
  auto known = known_mount_options();
  for (const char* o : {"rro", "rbind", "nosymfollow", "rshared", "strictatime", "tmpcopyup"})
    EXPECT_NE(std::find(known.begin(), known.end(), o), known.end()) << o;
}

TEST(OciCapabilities, NamesAndSets) {
  EXPECT_EQ(capability_from_name("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_FALSE(capability_from_name("CAP_NOPE"));
  EXPECT_EQ(capability_names().size(), 41u);
  Capabilities c;
  c.bounding = {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NOPE", "CAP_BPF"};
  c.effective = {"CAP_KILL"};
  std::vector<std::string> ignored;
  CapSets s = capsets_from_spec(c, 38, ignored);  // a kernel without CAP_BPF (39)
  EXPECT_EQ(s.bounding, (1ull << CAP_KILL) | (1ull << CAP_NET_BIND_SERVICE));
  EXPECT_EQ(s.effective, 1ull << CAP_KILL);
  EXPECT_EQ(s.ambient, 0ull);
  EXPECT_EQ(ignored, (std::vector<std::string>{"CAP_NOPE", "CAP_BPF"}));
}

TEST(OciSeccomp, ActionsOperatorsArches) {
  EXPECT_EQ(seccomp_action("SCMP_ACT_ALLOW", std::nullopt), SCMP_ACT_ALLOW);
  EXPECT_EQ(seccomp_action("SCMP_ACT_ERRNO", std::nullopt), SCMP_ACT_ERRNO(EPERM));
  EXPECT_EQ(seccomp_action("SCMP_ACT_ERRNO", 38u), SCMP_ACT_ERRNO(38));
  EXPECT_EQ(seccomp_action("SCMP_ACT_KILL", std::nullopt), SCMP_ACT_KILL_THREAD);
  EXPECT_EQ(seccomp_action("SCMP_ACT_KILL_PROCESS", std::nullopt), SCMP_ACT_KILL_PROCESS);
  EXPECT_EQ(seccomp_action("SCMP_ACT_TRACE", 5u), SCMP_ACT_TRACE(5));
  EXPECT_EQ(seccomp_action("SCMP_ACT_LOG", std::nullopt), SCMP_ACT_LOG);
  EXPECT_THROW(seccomp_action("SCMP_ACT_BOGUS", std::nullopt), Error);
  // libseccomp's limits are the input's fault (seccomp_profile_fuzz found 888888).
  EXPECT_EQ(seccomp_action("SCMP_ACT_ERRNO", 4095u), SCMP_ACT_ERRNO(4095));
  try {
    seccomp_action("SCMP_ACT_ERRNO", 888888u);
    ADD_FAILURE() << "an errnoRet past 4095 was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("888888"), std::string::npos) << e.what();
  }
  EXPECT_THROW(seccomp_action("SCMP_ACT_TRACE", 65536u), Error);
  EXPECT_EQ(seccomp_action("SCMP_ACT_NOTIFY", std::nullopt), SCMP_ACT_NOTIFY);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_MASKED_EQ"), SCMP_CMP_MASKED_EQ);
  EXPECT_THROW(seccomp_operator("SCMP_CMP_XX"), Error);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_X86_64"), static_cast<uint32_t>(SCMP_ARCH_X86_64));
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_AARCH64"), static_cast<uint32_t>(SCMP_ARCH_AARCH64));
  EXPECT_THROW(seccomp_arch("SCMP_ARCH_VAX"), Error);
}

TEST(OciSeccomp, BuildsAFilterAndSkipsUnknownSyscalls) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  SeccompSyscall allow;
  allow.names = {"read", "write", "no_such_syscall_xyz"};
  allow.action = "SCMP_ACT_ALLOW";
  SeccompSyscall same_default;  // repeats the default: dropped, not an error
  same_default.names = {"mkdir"};
  same_default.action = "SCMP_ACT_ERRNO";
  SeccompSyscall cond;  // two comparisons on one argument: one rule each
  cond.names = {"personality"};
  cond.action = "SCMP_ACT_ALLOW";
  cond.args = {{0, 0, 0, "SCMP_CMP_EQ"}, {0, 8, 0, "SCMP_CMP_EQ"}};
  s.syscalls = {allow, same_default, cond};
  std::vector<std::string> skipped;
  auto f = SeccompFilter::build(s, skipped);
  ASSERT_TRUE(f);
  EXPECT_EQ(skipped, (std::vector<std::string>{"no_such_syscall_xyz"}));
  EXPECT_EQ(f->rule_count(), 4u);  // read, write, personality x2

  Seccomp bad = s;
  bad.syscalls[2].args[0].op = "SCMP_CMP_NOPE";
  EXPECT_THROW(SeccompFilter::build(bad, skipped), Error);
  bad = s;
  bad.flags = {"SECCOMP_FILTER_FLAG_BOGUS"};
  EXPECT_THROW(SeccompFilter::build(bad, skipped), Error);
}

TEST(OciProcess, RlimitsSysctlsAndLookup) {
  EXPECT_EQ(rlimit_resource("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimit_resource("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_THROW(rlimit_resource("RLIMIT_BOGUS"), Error);
  EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");

  Linux with_net;
  with_net.namespaces = {{"network", ""}, {"ipc", ""}};
  NamespacePlan net = plan_namespaces(&with_net);
  EXPECT_NO_THROW(check_sysctl("net.ipv4.ip_forward", net));
  EXPECT_NO_THROW(check_sysctl("kernel.shmmax", net));
  EXPECT_NO_THROW(check_sysctl("fs.mqueue.msg_max", net));
  EXPECT_THROW(check_sysctl("kernel.hostname", net), Error);  // no uts namespace
  EXPECT_THROW(check_sysctl("vm.swappiness", net), Error);     // not namespaced at all
  NamespacePlan none = plan_namespaces(nullptr);
  EXPECT_THROW(check_sysctl("net.ipv4.ip_forward", none), Error);

  EXPECT_EQ(env_get({"A=1", "PATH=/x", "PATHX=2"}, "PATH"), "/x");
  EXPECT_FALSE(env_get({"A=1"}, "PATH"));
  EXPECT_EQ(find_executable("/bin/sh", {}), "/bin/sh");
  EXPECT_EQ(find_executable("sh", {"PATH=/nonexistent:/bin"}), "/bin/sh");
  EXPECT_EQ(find_executable("surely-not-a-command", {"PATH=/bin"}), "");
}

TEST(OciNamespaces, FlagsNamesAndMaps) {
  EXPECT_EQ(namespace_flag("network"), CLONE_NEWNET);
  EXPECT_EQ(namespace_flag("time"), CLONE_NEWTIME);
  EXPECT_STREQ(namespace_proc_name("mount"), "mnt");
  EXPECT_THROW(namespace_flag("bogus"), Error);
  EXPECT_EQ(format_id_map({{0, 100000, 65536}, {65536, 1000, 1}}), "0 100000 65536\n65536 1000 1\n");
  Linux l;
  l.namespaces = {{"pid", ""}, {"mount", ""}, {"time", ""}};
  NamespacePlan p = plan_namespaces(&l);
  EXPECT_EQ(p.clone_flags, static_cast<unsigned long>(CLONE_NEWPID | CLONE_NEWNS));
  EXPECT_TRUE(p.new_time);
  EXPECT_TRUE(p.is_new(CLONE_NEWTIME));
  EXPECT_FALSE(p.has(CLONE_NEWNET));
  EXPECT_FALSE(p.joins_user_or_pid());
  Linux missing;
  missing.namespaces = {{"network", "/nonexistent/netns"}};
  EXPECT_THROW(plan_namespaces(&missing), Error);
}

TEST(OciCli, ParsesGlobalAndCommandFlags) {
  ParsedArgs a = parse_args({"--root", "/r", "--log=/l", "--log-format", "json", "--debug", "--systemd-cgroup",
                             "create", "--bundle", "/b", "--pid-file=/p", "-console-socket", "/s", "id1",
                             "--preserve-fds", "2"});
  EXPECT_EQ(a.command, "create");
  EXPECT_EQ(a.get("root"), "/r");
  EXPECT_EQ(a.get("log"), "/l");
  EXPECT_EQ(a.get("log-format"), "json");
  EXPECT_TRUE(a.has("debug"));
  EXPECT_TRUE(a.has("systemd-cgroup"));
  EXPECT_EQ(a.get("bundle"), "/b");
  EXPECT_EQ(a.get("pid-file"), "/p");
  EXPECT_EQ(a.get("console-socket"), "/s");
  EXPECT_EQ(a.get("preserve-fds"), "2");
  EXPECT_EQ(a.positional, (std::vector<std::string>{"id1"}));

  ParsedArgs k = parse_args({"kill", "-a", "c1", "KILL"});
  EXPECT_TRUE(k.has("all"));
  EXPECT_EQ(k.positional, (std::vector<std::string>{"c1", "KILL"}));
  ParsedArgs d = parse_args({"delete", "-f", "c1"});
  EXPECT_TRUE(d.has("force"));
  ParsedArgs r = parse_args({"run", "-d", "-b", "/b", "c1"});
  EXPECT_TRUE(r.has("detach"));
  EXPECT_EQ(r.get("bundle"), "/b");
  ParsedArgs e = parse_args({"exec", "-t", "c1", "sh"});  // exec's own flags are checked by the exec verb
  EXPECT_EQ(e.command, "exec");

  EXPECT_THROW(parse_args({"create", "--bogus", "x"}), Error);
  EXPECT_THROW(parse_args({"create", "--bundle"}), Error);
  EXPECT_THROW(parse_args({"frobnicate"}), Error);
  EXPECT_THROW(parse_args({"start", "--force", "x"}), Error);
}

TEST(OciCli, ParsesSignals) {
  EXPECT_EQ(parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("hup"), SIGHUP);
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_EQ(parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(parse_signal("RTMAX"), SIGRTMAX);
  EXPECT_THROW(parse_signal("NOPE"), Error);
  EXPECT_THROW(parse_signal("0"), Error);
  EXPECT_THROW(parse_signal("999"), Error);
}

TEST(OciState, PublicAndHookJson) {
  State s;
  s.id = "c1";
  s.pid = 42;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = "2026-01-01T00:00:00Z";
  s.annotations = {{"k", "v"}};
  s.status = Status::running;
  auto h = s.to_hook_json();
  EXPECT_EQ(h.dump(), R"({"ociVersion":"1.1.0","id":"c1","status":"running","pid":42,"bundle":"/b","annotations":{"k":"v"}})");
  s.status = Status::stopped;
  EXPECT_FALSE(s.to_hook_json().contains("pid"));
  EXPECT_EQ(s.to_public_json()["pid"], 0);
  EXPECT_EQ(s.to_public_json()["status"], "stopped");
  State back = State::from_record_json(s.to_record_json());
  EXPECT_EQ(back.id, "c1");
  EXPECT_EQ(back.pid, 42);
  EXPECT_EQ(back.annotations.at("k"), "v");

  EXPECT_NO_THROW(check_container_id("web-1_a.b+c"));
  for (const char* bad : {"", ".", "..", "a/b", "a b", "x\n"}) EXPECT_THROW(check_container_id(bad), Error) << bad;
}

}  // namespace
}  // namespace crius::oci::runtime
