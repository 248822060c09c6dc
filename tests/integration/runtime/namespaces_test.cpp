// linux.namespaces: new ones, joined ones (by path), the user namespace with
// its id mappings, and a path of the wrong type.
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Namespaces);

// /proc/<pid>/ns/<name> for each spec type.
const std::vector<std::pair<std::string, std::string>> kTypes = {
    {"pid", "pid"}, {"network", "net"}, {"ipc", "ipc"}, {"uts", "uts"}, {"mount", "mnt"}, {"cgroup", "cgroup"}};

TEST_P(Namespaces, NewNamespacesAreNew) {
  auto b = bundle();
  b->args({"sleep", "60"});
  b->add_namespace("cgroup");
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  for (const auto& [type, file] : kTypes) {
    ino_t mine = ns_inode(::getpid(), file), theirs = ns_inode(pid, file);
    ASSERT_NE(theirs, 0u) << file;
    EXPECT_NE(mine, theirs) << type << " namespace should be new";
  }
}

TEST_P(Namespaces, OmittedNamespacesAreShared) {
  auto b = bundle();
  b->args({"sleep", "60"});
  b->remove_namespace("ipc");
  b->remove_namespace("uts");
  b->remove_namespace("network");
  b->spec.erase("hostname");  // a hostname needs a new uts namespace
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  for (const char* file : {"ipc", "uts", "net"}) EXPECT_EQ(ns_inode(::getpid(), file), ns_inode(pid, file)) << file;
  EXPECT_NE(ns_inode(::getpid(), "mnt"), ns_inode(pid, "mnt"));
}

TEST_P(Namespaces, JoinNetworkNamespaceByPath) {
  NetNs netns;
  struct stat st {};
  ASSERT_EQ(::stat(netns.path().c_str(), &st), 0);
  auto b = bundle();
  b->args({"sleep", "60"});
  b->add_namespace("network", netns.path().string());
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  EXPECT_EQ(ns_inode(pid, "net"), st.st_ino) << "the container must be in " << netns.path();
}

TEST_P(Namespaces, JoinIpcNamespaceOfAnotherContainer) {
  auto b1 = bundle("first");
  b1->args({"sleep", "60"});
  auto c1 = container("first");
  std::string error;
  pid_t p1 = c1->launch(*b1, "sleep", &error);
  ASSERT_GT(p1, 0) << error;

  auto b2 = bundle("second");
  b2->args({"sleep", "60"});
  b2->add_namespace("ipc", "/proc/" + std::to_string(p1) + "/ns/ipc");
  b2->add_namespace("uts", "/proc/" + std::to_string(p1) + "/ns/uts");
  b2->spec.erase("hostname");  // a joined uts namespace keeps its hostname
  auto c2 = container("second");
  pid_t p2 = c2->launch(*b2, "sleep", &error);
  ASSERT_GT(p2, 0) << error;
  EXPECT_EQ(ns_inode(p1, "ipc"), ns_inode(p2, "ipc"));
  EXPECT_EQ(ns_inode(p1, "uts"), ns_inode(p2, "uts"));
  EXPECT_NE(ns_inode(p1, "pid"), ns_inode(p2, "pid"));
}

TEST_P(Namespaces, WrongTypeNamespacePathRefused) {
  auto b = bundle();
  b->args({"sleep", "60"});
  // An ipc namespace given as the network namespace.
  b->add_namespace("network", "/proc/" + std::to_string(::getpid()) + "/ns/ipc");
  auto c = container();
  auto r = c->create(*b);
  EXPECT_NE(r.exit_code, 0) << "joining an ipc namespace as network must fail\n" << r.describe();
  EXPECT_NE(rt().status(c->id()), "created");
}

TEST_P(Namespaces, JoinUserPidAndCgroupNamespacesOfAnotherContainer) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 wants uid mappings even for a joined user namespace");
  // The first container: new user (mapped), pid and cgroup namespaces.
  auto b1 = bundle("first");
  b1->args({"sleep", "60"});
  b1->add_namespace("user");
  b1->add_namespace("cgroup");
  b1->spec["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b1->spec["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
  b1->remove_mount("/sys/fs/cgroup");  // see UserNamespaceWithMappings
  auto c1 = container("first");
  std::string error;
  pid_t p1 = c1->launch(*b1, "sleep", &error);
  ASSERT_GT(p1, 0) << error;

  // The second joins them by path (no mappings of its own: they are the
  // joined namespace's).
  auto b2 = bundle("second");
  b2->args({"sleep", "60"});
  const std::string ns = "/proc/" + std::to_string(p1) + "/ns/";
  b2->remove_namespace("pid");
  b2->add_namespace("user", ns + "user");
  b2->add_namespace("pid", ns + "pid");
  b2->add_namespace("cgroup", ns + "cgroup");
  b2->remove_mount("/sys/fs/cgroup");
  auto c2 = container("second");
  pid_t p2 = c2->launch(*b2, "sleep", &error);
  ASSERT_GT(p2, 0) << error;
  for (const char* file : {"user", "pid", "cgroup"}) EXPECT_EQ(ns_inode(p1, file), ns_inode(p2, file)) << file;
  EXPECT_NE(ns_inode(p1, "mnt"), ns_inode(p2, "mnt"));
  EXPECT_EQ(read_file("/proc/" + std::to_string(p2) + "/uid_map"), read_file("/proc/" + std::to_string(p1) + "/uid_map"));
}

TEST_P(Namespaces, UserNamespaceWithMappings) {
  auto b = bundle();
  b->sh("echo uid=$(id -u) gid=$(id -g); exec sleep 60");
  b->add_namespace("user");
  b->spec["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b->spec["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}};
  // Host cgroup v1 hierarchies cannot be mounted from a user namespace that
  // does not own them; the cgroup mount is a separate test.
  b->remove_mount("/sys/fs/cgroup");
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  EXPECT_NE(ns_inode(::getpid(), "user"), ns_inode(pid, "user"));
  auto squash = [](std::string s) {
    std::string o;
    bool space = false;
    for (char ch : s) {
      if (ch == ' ' || ch == '\t' || ch == '\n') {
        space = !o.empty();
      } else {
        if (space) o.push_back(' ');
        space = false;
        o.push_back(ch);
      }
    }
    return o;
  };
  EXPECT_EQ(squash(read_file("/proc/" + std::to_string(pid) + "/uid_map")), "0 100000 65536");
  EXPECT_EQ(squash(read_file("/proc/" + std::to_string(pid) + "/gid_map")), "0 200000 65536");
  // Seen from the host, container root is the mapped id.
  EXPECT_EQ(proc_status_field(pid, "Uid").substr(0, 6), "100000");
  EXPECT_EQ(proc_status_field(pid, "Gid").substr(0, 6), "200000");
}

TEST_P(Namespaces, TimeNamespaceWithOffsets) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 does not know the time namespace");
  // Neither reference passes this one: it checks crius-runtime only.
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1 fails create with a time namespace (write to sync socket: Broken pipe)");
  auto b = bundle();
  b->add_namespace("time");
  // A day ahead on the monotonic clock and the boot clock.
  b->spec["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 86400}, {"nanosecs", 0}}},
                                     {"boottime", {{"secs", 86400}, {"nanosecs", 0}}}};
  // cut is a child of the shell, so it is in the new time namespace whether
  // or not exec moved the shell itself there.
  b->sh("cut -d. -f1 /proc/uptime");
  auto r = rt().run(unique_id("time"), *b);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const long host_uptime = std::stol(read_file("/proc/uptime"));
  ASSERT_FALSE(r.out.empty()) << r.describe();
  EXPECT_GE(std::stol(r.out), host_uptime + 86400 - 60) << "boottime offset not applied\n" << r.describe();
}

}  // namespace
}  // namespace crius::testing::rt
