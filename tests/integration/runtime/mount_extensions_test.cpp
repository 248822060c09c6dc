// Mount features beyond plain mount(2): idmapped bind mounts (the spec's
// mount uidMappings/gidMappings, "idmap"/"ridmap") and runc's "tmpcopyup".
#include <sys/stat.h>
#include <unistd.h>

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
