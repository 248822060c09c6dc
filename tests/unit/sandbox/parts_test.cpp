// The pure parts of pod sandboxes: cgroup parent names per driver, which
// sysctls a pod may set, resolv.conf text, records and IDs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "base/error.h"
#include "sandbox/cgroup.h"
#include "sandbox/sandboxes.h"
#include "sandbox/pod_files.h"
#include "sandbox/record.h"
#include "sandbox/sysctl.h"

namespace crius::sandbox {
namespace {
namespace fs = std::filesystem;

TEST(SandboxCgroup, CgroupfsPathsAreTakenAsTheyAre) {
  EXPECT_EQ(cgroup_path("/kubepods/burstable/pod123", "cgroupfs"), "/kubepods/burstable/pod123");
  EXPECT_EQ(cgroup_path("/kubepods/", "cgroupfs"), "/kubepods");
  EXPECT_EQ(cgroup_path("", "cgroupfs"), "");
  EXPECT_THROW(cgroup_path("kubepods", "cgroupfs"), Error);
  EXPECT_THROW(cgroup_path("/a/../b", "cgroupfs"), Error);
  EXPECT_THROW(cgroup_path("kubepods-burstable.slice", "cgroupfs"), Error);
}

TEST(SandboxCgroup, SystemdSlicesExpandToTheirParents) {
  EXPECT_EQ(cgroup_path("kubepods-burstable-pod123.slice", "systemd"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice");
  EXPECT_EQ(cgroup_path("kubepods.slice", "systemd"), "/kubepods.slice");
  EXPECT_EQ(cgroup_path("-.slice", "systemd"), "/");
  try {
    cgroup_path("/kubepods/pod1", "systemd");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("/kubepods/pod1"), std::string::npos);
  }
  EXPECT_THROW(cgroup_path("a--b.slice", "systemd"), Error);
  EXPECT_THROW(cgroup_path("-a.slice", "systemd"), Error);
}

TEST(SandboxCgroup, MountsComeFromMountinfo) {
  std::string t = (fs::temp_directory_path() / "crius-mountinfo-XXXXXX").string();
  int fd = ::mkstemp(t.data());
  ::close(fd);
  std::ofstream(t) << "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
                      "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                      "32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
                      "33 25 0:28 /nested /mnt/nested rw - cgroup2 cgroup2 rw\n"
                      "34 25 0:29 / /tmp rw - tmpfs tmpfs rw\n";
  auto m = cgroup_mounts(t);
  fs::remove(t);
  EXPECT_EQ(m, (std::vector<std::string>{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified"}));
}

TEST(SandboxCgroup, CreatesOnlyWhatIsMissingAndRemovesOnlyThat) {
  std::string t = (fs::temp_directory_path() / "crius-cg-XXXXXX").string();
  ASSERT_TRUE(::mkdtemp(t.data()));
  fs::create_directories(t + "/a/kubepods");
  fs::create_directories(t + "/b");
  auto created = create_cgroup("/kubepods/pod1", {t + "/a", t + "/b"});
  EXPECT_EQ(created, (std::vector<std::string>{t + "/a/kubepods/pod1", t + "/b/kubepods", t + "/b/kubepods/pod1"}));
  EXPECT_EQ(remove_cgroup_dirs(created), "");
  EXPECT_TRUE(fs::exists(t + "/a/kubepods")) << "not ours";
  EXPECT_FALSE(fs::exists(t + "/b/kubepods"));
  fs::remove_all(t);
}

TEST(SandboxSysctl, OnlyNamespacedOnesAndNeverForTheNodesNamespaces) {
  EXPECT_EQ(validate_sysctl("net.ipv4.ip_forward", false, false), SysctlNamespace::net);
  EXPECT_EQ(validate_sysctl("net/ipv4/conf/eth0.100/forwarding", false, false), SysctlNamespace::net);
  EXPECT_EQ(validate_sysctl("kernel.shmmax", false, false), SysctlNamespace::ipc);
  EXPECT_EQ(validate_sysctl("kernel.msgmnb", false, false), SysctlNamespace::ipc);
  EXPECT_EQ(validate_sysctl("kernel.sem", false, false), SysctlNamespace::ipc);
  EXPECT_EQ(validate_sysctl("fs.mqueue.msg_max", false, false), SysctlNamespace::ipc);
  for (const char* bad : {"kernel.panic", "vm.swappiness", "kernel.hostname", "kernel.semx", "fs.file-max"}) {
    try {
      validate_sysctl(bad, false, false);
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(validate_sysctl("net.ipv4.ip_forward", true, false), Error);
  EXPECT_THROW(validate_sysctl("kernel.shmmax", false, true), Error);
  EXPECT_THROW(validate_sysctl("net.ipv4..x", false, false), Error);
  EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(sysctl_path("net/ipv4/conf/eth0.100/forwarding"), "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
}

TEST(SandboxFiles, ResolvConfFromDnsConfigOrTheHosts) {
  DnsConfig dns;
  dns.servers = {"1.1.1.1", "8.8.8.8"};
  dns.searches = {"a.svc", "svc"};
  dns.options = {"ndots:5", "timeout:1"};
  EXPECT_EQ(resolv_conf_text(dns), "search a.svc svc\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:5 timeout:1\n");
  std::string t = (fs::temp_directory_path() / "crius-resolv-XXXXXX").string();
  int fd = ::mkstemp(t.data());
  ::close(fd);
  std::ofstream(t) << "nameserver 9.9.9.9\n";
  EXPECT_EQ(resolv_conf_text(DnsConfig{}, t), "nameserver 9.9.9.9\n");
  fs::remove(t);
}

TEST(SandboxRecord, RoundTripsThroughJsonAndDisk) {
  Record r;
  r.id = new_id();
  r.spec.name = "web";
  r.spec.uid = "u";
  r.spec.namespace_ = "ns";
  r.spec.attempt = 2;
  r.spec.labels = {{"a", "b"}};
  r.spec.port_mappings = {{"udp", 53, 5353, "127.0.0.1"}};
  r.spec.network = NsMode::node;
  r.spec.sysctls = {{"kernel.shmmax", "1"}};
  r.spec.config = {{"metadata", {{"name", "web"}}}};
  r.state = State::ready;
  r.created_at = 123;
  r.ips = {"10.0.0.2", "fd00::2"};
  r.namespaces = {{"ipc", "/run/x/ipc"}};
  r.cgroup_created = {"/sys/fs/cgroup/memory/x"};
  r.runtime_handler = "kata";
  r.handler = {"oci", "/usr/bin/kata-runtime"};
  std::string dir = (fs::temp_directory_path() / "crius-rec-XXXXXX").string();
  ASSERT_TRUE(::mkdtemp(dir.data()));
  save(dir, r);
  std::ofstream(dir + "/junk.json") << "{";
  auto all = load_all(dir);
  ASSERT_EQ(all.size(), 1u) << "the unreadable record is skipped";
  const Record& back = all[0];
  EXPECT_EQ(back.to_json(), r.to_json());
  EXPECT_EQ(back.spec.port_mappings, r.spec.port_mappings);
  EXPECT_EQ(back.spec.network, NsMode::node);
  EXPECT_EQ(back.spec.reservation_key(), "web_ns_u_2");
  EXPECT_EQ(back.handler, r.handler) << "the handler the pod started with survives a restart";
  erase_record(dir, r.id);
  EXPECT_TRUE(load_all(dir).empty());
  fs::remove_all(dir);
}

TEST(SandboxRecord, OneWithoutAHandlerDefinitionReadsAsEmpty) {
  // Written before the definition was kept: the config is asked instead.
  Record r;
  r.id = new_id();
  r.runtime_handler = "runc";
  nlohmann::json j = r.to_json();
  j.erase("handler");
  const Record back = Record::from_json(j);
  EXPECT_EQ(back.runtime_handler, "runc");
  EXPECT_TRUE(back.handler.type.empty());
}

TEST(SandboxId, SixtyFourHexDigitsAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = new_id();
    EXPECT_EQ(id.size(), 64u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
}  // namespace crius::sandbox
