// Image volumes (CRI Mount.image), as kubelet asks for them: it pulls the
// image, then creates a container whose mount names the image by the ID the
// pull returned, read-only. Read from inside, whole and by sub path; the
// refusals, each naming the field and leaving nothing; two pods sharing one;
// RemoveImage refused while it is mounted; nothing left after removal.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/e2e/image_helpers.h"
//
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::test {
namespace {

using fixtures::TarEntry;

// Two images with known files in a registry of this test binary: "volume"
// of two layers (files, a sub directory, a regular file and symlinks, one
// staying inside, two leading out), and "single" of one layer.
struct VolumeImages {
  fixtures::Registry registry;
  std::string volume, single;
  VolumeImages() {
    auto l1 = fixtures::make_layer({{.path = "data", .type = 'd', .mode = 0755},
                                    {.path = "data/hello.txt", .data = "hello from the image\n"},
                                    {.path = "file.txt", .data = "not a directory\n"}},
                                   fixtures::Compression::gzip);
    auto l2 = fixtures::make_layer({{.path = "data/sub", .type = 'd', .mode = 0755},
                                    {.path = "data/sub/inner.txt", .data = "inner\n"},
                                    {.path = "inside", .type = 'l', .data = "data/sub"},
                                    {.path = "absolute", .type = 'l', .data = "/data"},
                                    {.path = "up", .type = 'l', .data = "../../.."}},
                                   fixtures::Compression::gzip);
    fixtures::push_image(registry, "test/volume", "v1", {l1, l2});
    volume = registry.host() + "/test/volume:v1";
    auto one = fixtures::make_layer({{.path = "models", .type = 'd', .mode = 0755},
                                     {.path = "models/weights.bin", .data = "w1\n"}},
                                    fixtures::Compression::gzip);
    fixtures::push_image(registry, "test/single", "v1", {one});
    single = registry.host() + "/test/single:v1";
  }
};

VolumeImages& images() {
  static VolumeImages i;
  return i;
}

// Pulls as kubelet does before it creates the container; the ID it returns
// is what kubelet puts in Mount.image.image.
std::string pull_id(Daemon& d, const std::string& ref) {
  auto r = image_e2e::pull(d, ref);
  if (!r.status.ok()) throw std::runtime_error("pulling " + ref + ": " + r.status.error_message());
  return r.id;
}

v1::Mount image_mount(const std::string& path, const std::string& image, const std::string& sub = "") {
  v1::Mount m;
  m.set_container_path(path);
  m.mutable_image()->set_image(image);
  m.set_image_sub_path(sub);
  m.set_readonly(true);
  return m;
}


std::string volumes_root(ContainerEnv& env) { return env.daemon.dir().path() + "/root/images/containers"; }

std::string repo_digest(Daemon& d, const std::string& id) {
  auto st = image_e2e::status(d, id);
  if (!st || st->repo_digests().empty()) return "";
  return st->repo_digests(0);
}

TEST(ImageVolume, MountedWholeAndBySubPathReadOnly) {
  ContainerEnv env;
  const std::string id = pull_id(env.daemon, images().volume);
  const std::string pod = env.run_pod("vol");
  auto c = container_config("reader", env.image, {"sleep", "3600"});
  *c.add_mounts() = image_mount("/vol", id);
  *c.add_mounts() = image_mount("/sub", id, "data/sub");
  *c.add_mounts() = image_mount("/linked", id, "inside");  // a symlink that stays inside the image
  const std::string ctr = env.create(pod, c);

  EXPECT_EQ(exec_sync(env.daemon, ctr, {"cat", "/vol/data/hello.txt"}).out, "hello from the image\n");
  EXPECT_EQ(exec_sync(env.daemon, ctr, {"cat", "/vol/data/sub/inner.txt"}).out, "inner\n") << "both layers";
  EXPECT_EQ(exec_sync(env.daemon, ctr, {"cat", "/sub/inner.txt"}).out, "inner\n");
  EXPECT_EQ(exec_sync(env.daemon, ctr, {"ls", "/sub"}).out, "inner.txt\n") << "only the sub directory";
  EXPECT_EQ(exec_sync(env.daemon, ctr, {"cat", "/linked/inner.txt"}).out, "inner\n");
  for (const char* target : {"/vol/new", "/vol/data/hello.txt", "/sub/new"}) {
    auto w = exec_sync(env.daemon, ctr, {"sh", "-c", std::string("echo x > ") + target});
    EXPECT_NE(w.exit_code, 0) << target << " is writable";
    EXPECT_NE(w.err.find("Read-only"), std::string::npos) << w.err;
  }
  EXPECT_EQ(exec_sync(env.daemon, ctr, {"cat", "/vol/data/hello.txt"}).out, "hello from the image\n");

  auto st = container_status(env.daemon, ctr).status();
  ASSERT_EQ(st.mounts_size(), 3);
  const std::string digest = repo_digest(env.daemon, id);
  ASSERT_FALSE(digest.empty());
  for (const auto& m : st.mounts()) {
    EXPECT_EQ(m.image().image(), id);
    EXPECT_EQ(m.image().image_ref(), digest) << m.container_path();
    EXPECT_TRUE(m.readonly());
  }
  EXPECT_EQ(st.mounts(1).image_sub_path(), "data/sub");
  EXPECT_EQ(mounts_under(volumes_root(env) + "/" + ctr + "/volumes").size(), 3u);

  ASSERT_TRUE(stop_container(env.daemon, ctr, 0).ok());
  ASSERT_TRUE(remove_container(env.daemon, ctr).ok());
  EXPECT_TRUE(mounts_under(volumes_root(env)).empty());
}

TEST(ImageVolume, RefusalsNameTheFieldAndLeaveNothing) {
  ContainerEnv env;
  const std::string id = pull_id(env.daemon, images().volume);
  const std::string pod = env.run_pod("refused");
  {
    // One good mount first: the layers' short links it makes stay, as the
    // rootfs's do, and are not what the refusals below must not leave.
    auto c = container_config("good", env.image, {"true"});
    *c.add_mounts() = image_mount("/vol", id);
    const std::string ctr = env.create(pod, c, false);
    ASSERT_TRUE(remove_container(env.daemon, ctr).ok());
  }
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);

  struct Case {
    const char* what;
    v1::Mount mount;
    grpc::StatusCode code;
    std::vector<std::string> named;  // in the message
  };
  v1::Mount rw = image_mount("/vol", id);
  rw.set_readonly(false);
  v1::Mount both = image_mount("/vol", id);
  both.set_host_path("/tmp");
  const std::string absent = images().registry.host() + "/test/absent:v1";
  const std::vector<Case> cases = {
      {"image not pulled", image_mount("/vol", absent), grpc::StatusCode::NOT_FOUND, {"mounts[0].image", absent}},
      {"..", image_mount("/vol", id, "data/../../etc"), grpc::StatusCode::INVALID_ARGUMENT,
       {"mounts[0].image_sub_path", "data/../../etc"}},
      {"absolute", image_mount("/vol", id, "/data"), grpc::StatusCode::INVALID_ARGUMENT,
       {"mounts[0].image_sub_path", "/data"}},
      {"missing", image_mount("/vol", id, "nope"), grpc::StatusCode::INVALID_ARGUMENT,
       {"mounts[0].image_sub_path", "nope"}},
      {"a file", image_mount("/vol", id, "file.txt"), grpc::StatusCode::INVALID_ARGUMENT,
       {"mounts[0].image_sub_path", "file.txt", "not a directory"}},
      {"absolute symlink", image_mount("/vol", id, "absolute"), grpc::StatusCode::INVALID_ARGUMENT,
       {"mounts[0].image_sub_path", "absolute", "symlink"}},
      {"symlink up", image_mount("/vol", id, "up/etc"), grpc::StatusCode::INVALID_ARGUMENT,
       {"mounts[0].image_sub_path", "up/etc", "symlink"}},
      {"read-write", rw, grpc::StatusCode::INVALID_ARGUMENT, {"mounts[0].readonly"}},
      {"host_path too", both, grpc::StatusCode::INVALID_ARGUMENT, {"mounts[0]", "host_path"}},
  };
  for (const auto& k : cases) {
    auto c = container_config("bad", env.image, {"true"});
    *c.add_mounts() = k.mount;
    std::string ctr;
    auto s = create_container(env.daemon, pod, c, env.pods[pod], &ctr);
    EXPECT_EQ(s.error_code(), k.code) << k.what << ": " << s.error_message();
    for (const auto& n : k.named) EXPECT_NE(s.error_message().find(n), std::string::npos) << k.what << ": " << s.error_message();
    EXPECT_EQ(container_count(env.daemon), 0u) << k.what;
    EXPECT_TRUE(mounts_under(volumes_root(env)).empty()) << k.what;
  }
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
}

TEST(ImageVolume, SharedByTwoPodsAndPinsItsImage) {
  ContainerEnv env;
  const std::string id = pull_id(env.daemon, images().single);
  const std::string pod_a = env.run_pod("share-a"), pod_b = env.run_pod("share-b");
  auto config = [&](const std::string& name) {
    auto c = container_config(name, env.image, {"sleep", "3600"});
    *c.add_mounts() = image_mount("/models", id, "models");
    return c;
  };
  const std::string a1 = env.create(pod_a, config("a1"));
  const std::string a2 = env.create(pod_a, config("a2"));
  const std::string b = env.create(pod_b, config("b"));
  for (const auto& ctr : {a1, a2, b})
    EXPECT_EQ(exec_sync(env.daemon, ctr, {"cat", "/models/weights.bin"}).out, "w1\n") << ctr;
  EXPECT_EQ(mounts_under(volumes_root(env)).size(), 6u) << "three root filesystems, three volumes";

  auto s = image_e2e::remove(env.daemon, id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_TRUE(s.error_message().find(a1) != std::string::npos || s.error_message().find(a2) != std::string::npos ||
              s.error_message().find(b) != std::string::npos)
      << s.error_message();
  s = image_e2e::remove(env.daemon, images().single);  // by tag: its only one, so the whole image
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  ASSERT_TRUE(image_e2e::status(env.daemon, id).has_value());

  ASSERT_TRUE(remove_pod(env.daemon, pod_a).ok());
  EXPECT_EQ(exec_sync(env.daemon, b, {"cat", "/models/weights.bin"}).out, "w1\n") << "pod b keeps its volume";
  s = image_e2e::remove(env.daemon, id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find(b), std::string::npos) << s.error_message();

  ASSERT_TRUE(stop_container(env.daemon, b, 0).ok());
  ASSERT_TRUE(remove_container(env.daemon, b).ok());
  EXPECT_TRUE(mounts_under(volumes_root(env)).empty());
  s = image_e2e::remove(env.daemon, id);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(image_e2e::status(env.daemon, id).has_value());
}

TEST(ImageVolume, NoMountLeftAfterRestartWithoutTheRecord) {
  ContainerEnv env;
  const std::string id = pull_id(env.daemon, images().single);
  const std::string pod = env.run_pod("restart");
  auto c = container_config("c", env.image, {"sleep", "3600"});
  *c.add_mounts() = image_mount("/models", id);
  const std::string kept = env.create(pod, c, false);
  // A create the daemon did not finish leaves a root filesystem and image
  // volume mounted and no record: made here by dropping a container's
  // record while the daemon is down.
  c.mutable_metadata()->set_name("cut-short");
  const std::string orphan = env.create(pod, c, false);
  ASSERT_EQ(mounts_under(volumes_root(env) + "/" + orphan).size(), 2u);
  env.daemon.stop();
  std::filesystem::remove(env.daemon.dir().path() + "/root/containers/" + orphan + ".json");
  env.daemon.restart();
  EXPECT_TRUE(mounts_under(volumes_root(env) + "/" + orphan).empty());
  EXPECT_FALSE(std::filesystem::exists(volumes_root(env) + "/" + orphan));
  EXPECT_EQ(mounts_under(volumes_root(env) + "/" + kept).size(), 2u) << "the kept container's rootfs and volume stay";
  ASSERT_TRUE(remove_container(env.daemon, kept).ok());
  EXPECT_TRUE(mounts_under(volumes_root(env)).empty());
  EXPECT_TRUE(image_e2e::remove(env.daemon, id).ok());
}

}  // namespace
}  // namespace crius::test
