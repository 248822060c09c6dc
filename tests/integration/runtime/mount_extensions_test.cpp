// Mount features beyond plain mount(2): idmapped bind mounts (the spec's
// mount uidMappings/gidMappings, "idmap"/"ridmap") and runc's "tmpcopyup".
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(MountExtensions);

nlohmann::json mapping(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

void make_file(const fs::path& p, const std::string& text, uid_t uid, gid_t gid, mode_t mode) {
  write_file(p, text);
  ASSERT_EQ(::chown(p.c_str(), uid, gid), 0) << p;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p;
}

TEST_P(MountExtensions, IdmappedBindShowsMappedOwners) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 has no idmapped mounts (runc 1.2 has)");
  const fs::path src = dir("idmap-src");
  make_file(src / "mapped", "m", 1000, 1001, 0644);
  make_file(src / "unmapped", "u", 0, 0, 0644);
  auto b = bundle();
  // On-disk ids 1000…1009 show as 3000…3009 (uids) and 4000…4009 (gids);
  // ids outside the mapping show as the overflow id.
  b->spec["mounts"].push_back({{"destination", "/idm"},
                               {"type", "bind"},
                               {"source", src.string()},
                               {"options", {"bind", "idmap"}},
                               {"uidMappings", {mapping(1000, 3000, 10)}},
                               {"gidMappings", {mapping(1000, 4000, 10)}}});
  b->sh("stat -c '%n %u:%g' /idm/mapped /idm/unmapped");
  auto r = rt().run(unique_id("idmap"), *b);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "/idm/mapped 3000:4001\n/idm/unmapped 65534:65534\n");
  // The host's files are untouched.
  struct stat st {};
  ASSERT_EQ(::stat((src / "mapped").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
}

// A user namespace (mapped 0 → 100000) with a network namespace it owns,
// held by a child of the test, as crius pins a pod's (hostUsers: false).
class HeldUserNamespace {
 public:
  HeldUserNamespace() {
    int ready[2], hold[2];
    if (::pipe(ready) != 0 || ::pipe(hold) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(hold[1]);  // EOF on hold[0] once the test closes its end
      ::close(ready[0]);
      char c = ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 ? 'y' : 'n';
      (void)!::write(ready[1], &c, 1);
      (void)!::read(hold[0], &c, 1);
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    hold_ = hold[1];
    char c = 0;
    ok_ = ::read(ready[0], &c, 1) == 1 && c == 'y';
    ::close(ready[0]);
    for (const char* f : {"uid_map", "gid_map"}) {
      const int fd = ::open(("/proc/" + std::to_string(pid_) + "/" + f).c_str(), O_WRONLY);
      ok_ = ok_ && fd >= 0 && ::write(fd, "0 100000 65536", 14) == 14;
      if (fd >= 0) ::close(fd);
    }
  }
  ~HeldUserNamespace() {
    if (hold_ >= 0) ::close(hold_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return ok_; }
  std::string ns(const char* kind) const { return "/proc/" + std::to_string(pid_) + "/ns/" + kind; }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
  bool ok_ = false;
};

TEST_P(MountExtensions, JoinedUserNamespaceWithIdmappedBinds) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 has no idmapped mounts (runc 1.2 has)");
  // What kubelet's hostUsers: false needs of a runtime: the pod's user (and
  // network) namespace joined by path, its maps given too, and bind mounts
  // idmapped with them, so that an ID on disk is the same ID inside.
  HeldUserNamespace held;
  ASSERT_TRUE(held.ok());
  const fs::path src = dir("idmap-src");
  make_file(src / "roots", "r", 0, 0, 0644);
  make_file(src / "apps", "a", 1000, 1000, 0644);
  auto b = bundle();
  b->add_namespace("user", held.ns("user"));
  b->remove_namespace("network");
  b->add_namespace("network", held.ns("net"));
  b->spec["linux"]["uidMappings"] = {mapping(0, 100000, 65536)};
  b->spec["linux"]["gidMappings"] = {mapping(0, 100000, 65536)};
  b->remove_mount("/sys/fs/cgroup");  // see Namespaces.UserNamespaceWithMappings
  // The image's root is the host root's (unmapped here): the mount point exists in it.
  b->spec["mounts"].push_back({{"destination", "/var"},
                               {"type", "bind"},
                               {"source", src.string()},
                               {"options", {"rbind", "idmap"}},
                               {"uidMappings", {mapping(0, 100000, 65536)}},
                               {"gidMappings", {mapping(0, 100000, 65536)}}});
  b->sh("cat /proc/self/uid_map; id -u; stat -c '%u:%g' /var/roots /var/apps; echo w > /var/new; "
        "ls /sys/class/net");
  auto r = rt().run(unique_id("userns-idmap"), *b);
  ASSERT_TRUE(r.ok()) << r.describe();
  std::istringstream lines(r.out);
  std::string map, uid, roots, apps, net;
  std::getline(lines, map);
  std::getline(lines, uid);
  std::getline(lines, roots);
  std::getline(lines, apps);
  std::getline(lines, net);
  std::istringstream fields(map);
  std::string a, h, n;
  fields >> a >> h >> n;
  EXPECT_EQ(a + " " + h + " " + n, "0 100000 65536");
  EXPECT_EQ(uid, "0");
  EXPECT_EQ(roots, "0:0");
  EXPECT_EQ(apps, "1000:1000");
  EXPECT_EQ(net, "lo") << "sysfs of the joined network namespace";
  struct stat st {};
  ASSERT_EQ(::stat((src / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "written by the namespace's root through the idmapped bind";
}

TEST_P(MountExtensions, IdmappedBindWritesAsTheMappedOwner) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 has no idmapped mounts (runc 1.2 has)");
  const fs::path src = dir("idmap-src");
  // Writing needs the directory's owner mapped too (unmapped → EACCES).
  ASSERT_EQ(::chown(src.c_str(), 5000, 6000), 0);
  auto b = bundle();
  // Container uid 0 is on-disk uid 5000 through this mount.
  b->spec["mounts"].push_back({{"destination", "/idm"},
                               {"type", "bind"},
                               {"source", src.string()},
                               {"options", {"rbind", "ridmap"}},
                               {"uidMappings", {mapping(5000, 0, 1)}},
                               {"gidMappings", {mapping(6000, 0, 1)}}});
  b->sh("stat -c '%u:%g' /idm && touch /idm/new && stat -c '%u:%g' /idm/new");
  auto r = rt().run(unique_id("idmap"), *b);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "0:0\n0:0\n");
  struct stat st {};
  ASSERT_EQ(::stat((src / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 5000u);
  EXPECT_EQ(st.st_gid, 6000u);
}

TEST_P(MountExtensions, IdmapInAUserNamespaceUsesTheContainersMapping) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 has no idmapped mounts (runc 1.2 has)");
  const fs::path src = dir("idmap-src");
  make_file(src / "owned-by-root", "r", 0, 0, 0644);
  auto b = bundle();
  b->add_namespace("user");
  b->spec["linux"]["uidMappings"] = {mapping(0, 100000, 65536)};
  b->spec["linux"]["gidMappings"] = {mapping(0, 200000, 65536)};
  // See Namespaces.UserNamespaceWithMappings: no cgroup v1 mount from a
  // user namespace.
  b->remove_mount("/sys/fs/cgroup");
  // "idmap" alone: the container's own mapping, so that the host's root
  // files are the container root's (they would show as 65534 otherwise).
  fs::create_directories(b->rootfs() / "idm");  // the rootfs is the host root's: no mkdir from inside
  b->add_mount("/idm", "bind", src.string(), {"bind", "idmap"});
  b->sh("stat -c '%u:%g' /idm/owned-by-root");
  auto r = rt().run(unique_id("idmap"), *b);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "0:0\n");
}

TEST_P(MountExtensions, IdmapOnANonBindMountIsRefused) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 has no idmapped mounts (runc 1.2 has)");
  auto b = bundle();
  b->spec["mounts"].push_back({{"destination", "/idm"},
                               {"type", "tmpfs"},
                               {"source", "tmpfs"},
                               {"options", {"idmap"}},
                               {"uidMappings", {mapping(0, 1000, 1)}},
                               {"gidMappings", {mapping(0, 1000, 1)}}});
  b->args({"true"});
  auto r = rt().run(unique_id("idmap"), *b);
  EXPECT_FALSE(r.ok()) << r.describe();
}

TEST_P(MountExtensions, TmpcopyupStartsWithTheImagesContent) {
  auto b = bundle();
  const fs::path data = b->rootfs() / "data";
  fs::create_directories(data / "sub");
  make_file(data / "file", "hello\n", 1000, 2000, 0604);
  ASSERT_EQ(::chown((data / "sub").c_str(), 5, 6), 0);
  ASSERT_EQ(::chmod((data / "sub").c_str(), 0751), 0);
  fs::create_symlink("../file", data / "sub/link");
  b->add_mount("/data", "tmpfs", "tmpfs", {"nosuid", "tmpcopyup", "mode=755"});
  b->sh("stat -c '%n %a %u:%g' /data/file /data/sub; readlink /data/sub/link; cat /data/sub/link; "
        "grep -c ' /data tmpfs ' /proc/self/mounts; echo x > /data/new");
  auto r = rt().run(unique_id("copyup"), *b);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "/data/file 604 1000:2000\n/data/sub 751 5:6\n../file\nhello\n1\n");
  EXPECT_FALSE(fs::exists(data / "new")) << "writes must land in the tmpfs, not in the image";
}

}  // namespace
}  // namespace crius::testing::rt
