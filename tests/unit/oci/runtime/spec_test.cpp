// The OCI spec model: config.json parsed into structs, bad fields named.
#include <gtest/gtest.h>

#include "base/error.h"
#include "oci/runtime/defaults.h"
#include "oci/runtime/spec.h"

namespace crius::oci {
namespace {

const char* kFull = R"({
  "ociVersion": "1.1.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6]},
    "args": ["sh", "-c", "true"],
    "env": ["PATH=/bin", "A=b"],
    "cwd": "/work",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"],
                     "inheritable": [], "ambient": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
    "noNewPrivileges": true,
    "apparmorProfile": "p",
    "oomScoreAdj": -100
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "h",
  "domainname": "d",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"]}],
  "hooks": {"prestart": [{"path": "/bin/a"}], "createRuntime": [{"path": "/bin/b", "args": ["b", "1"], "env": ["X=1"], "timeout": 3}],
            "poststop": [{"path": "/bin/c"}]},
  "annotations": {"k": "v"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "mount"}, {"type": "user"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 10}],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "architectures": ["SCMP_ARCH_X86_64"],
                "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                             {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                              "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]},
    "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}},
    "resources": {"devices": [{"allow": false, "access": "rwm"}]}
  }
})";

TEST(OciSpec, ParsesEveryField) {
  Spec s = parse_spec_text(kFull);
  EXPECT_EQ(s.oci_version, "1.1.0");
  ASSERT_TRUE(s.process);
  const Process& p = *s.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size);
  EXPECT_EQ(p.console_size->height, 24u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(p.args.size(), 3u);
  EXPECT_EQ(p.cwd, "/work");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->permitted.size(), 2u);
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].soft, 512u);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.oom_score_adj, -100);
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "h");
  EXPECT_EQ(s.domainname, "d");
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"rbind", "ro"}));
  ASSERT_EQ(s.hooks.create_runtime.size(), 1u);
  EXPECT_EQ(s.hooks.create_runtime[0].timeout, 3);
  EXPECT_EQ(s.hooks.create_runtime[0].env, (std::vector<std::string>{"X=1"}));
  EXPECT_EQ(s.hooks.poststop.size(), 1u);
  EXPECT_EQ(s.annotations.at("k"), "v");
  ASSERT_TRUE(s.linux_);
  const Linux& l = *s.linux_;
  ASSERT_EQ(l.namespaces.size(), 4u);
  EXPECT_EQ(l.namespaces[1].path, "/run/netns/x");
  EXPECT_EQ(l.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(l.gid_mappings[0].size, 10u);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  ASSERT_EQ(l.devices.size(), 1u);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  ASSERT_TRUE(l.seccomp);
  EXPECT_EQ(l.seccomp->default_errno_ret, 38u);
  ASSERT_EQ(l.seccomp->syscalls.size(), 2u);
  EXPECT_EQ(l.seccomp->syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, 10);
  EXPECT_TRUE(l.resources.is_object());
}

void expect_invalid(const std::string& text, const std::string& field) {
  try {
    parse_spec_text(text);
    ADD_FAILURE() << "accepted: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(OciSpec, NamesTheBadField) {
  expect_invalid("{", "invalid JSON");
  expect_invalid(R"({"root": {"path": "r"}})", "ociVersion");
  expect_invalid(R"({"ociVersion": "1", "root": {}})", "root.path");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"cwd": "/", "user": {"uid": -1}}})",
                 "process.user.uid");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"cwd": "rel"}})", "process.cwd");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "process": {"cwd": "/", "args": [1]}})",
                 "process.args[0]");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "mounts": [{"destination": "x"}]})",
                 "mounts[0].destination");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "linux": {"namespaces": [{"type": "bogus"}]}})",
                 "linux.namespaces[0].type");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "linux": {"namespaces": [{"type": "pid"}, {"type": "pid"}]}})",
                 "listed twice");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "hooks": {"poststart": [{"path": "rel"}]}})",
                 "hooks.poststart[0].path");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "linux": {"seccomp": {"syscalls": []}}})",
                 "linux.seccomp.defaultAction");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "linux": {"rootfsPropagation": "sideways"}})",
                 "linux.rootfsPropagation");
  expect_invalid(R"({"ociVersion": "1", "root": {"path": "r"}, "linux": {"devices": [{"type": "x", "path": "/dev/a"}]}})",
                 "linux.devices[0].type");
}

TEST(OciSpec, DefaultSpecParsesAndMatchesRuncSpec) {
  Spec s = parse_spec(nlohmann::json::parse(runtime::default_spec().dump()));
  ASSERT_TRUE(s.process);
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->args, (std::vector<std::string>{"sh"}));
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_EQ(s.mounts.size(), 7u);
  ASSERT_TRUE(s.linux_);
  EXPECT_EQ(s.linux_->namespaces.size(), 5u);
  EXPECT_EQ(s.linux_->masked_paths.size(), 10u);
  EXPECT_EQ(s.linux_->readonly_paths.size(), 5u);
}

}  // namespace
}  // namespace crius::oci
