// Mount.mount_options (cri-api's bind mount flags, RuntimeFeatures.mount_options):
// kubelet's noexec, nodev and nosuid reach the container's mount of the
// volume; anything that is not a per-mount flag is refused naming the option.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

// The mount options (the per-mount-point field) of `point` as the container sees it.
std::string options_inside(Daemon& d, const std::string& id, const std::string& point) {
  std::istringstream in(exec_sync(d, id, {"cat", "/proc/self/mountinfo"}).out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string mount_id, parent, devno, root, mount_point, options;
    f >> mount_id >> parent >> devno >> root >> mount_point >> options;
    if (mount_point == point) return "," + options + ",";
  }
  return "";
}

v1::Mount bind(const std::string& host, const std::string& inside) {
  v1::Mount m;
  m.set_host_path(host);
  m.set_container_path(inside);
  return m;
}

TEST(MountOptions, StatusAdvertisesThem) {
  ContainerEnv env;
  v1::StatusResponse res;
  ASSERT_TRUE(env.daemon.runtime()->Status(deadline_ctx().get(), v1::StatusRequest(), &res).ok());
  EXPECT_TRUE(res.features().mount_options());
}

TEST(MountOptions, NoexecNodevNosuidReachTheVolume) {
  ContainerEnv env;
  const fs::path vol = env.daemon.dir() / "vol";
  fs::create_directories(vol);
  {
    std::ofstream(vol / "run.sh") << "#!/bin/sh\necho ran\n";
  }
  fs::permissions(vol / "run.sh", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);

  const std::string pod = env.run_pod("mntopts");
  auto c = container_config("opts", env.image, {"sleep", "3600"});
  auto* flagged = c.add_mounts();
  *flagged = bind(vol, "/flagged");
  for (const char* o : {"noexec", "nodev", "nosuid"}) flagged->add_mount_options(o);
  *c.add_mounts() = bind(vol, "/plain");
  const std::string id = env.create(pod, c);

  const std::string flags = options_inside(env.daemon, id, "/flagged");
  for (const char* o : {",noexec,", ",nodev,", ",nosuid,"}) EXPECT_NE(flags.find(o), std::string::npos) << flags;
  EXPECT_EQ(options_inside(env.daemon, id, "/plain").find(",noexec,"), std::string::npos);

  // The same script runs from the plain mount and not from the noexec one.
  EXPECT_EQ(exec_sync(env.daemon, id, {"/plain/run.sh"}).out, "ran\n");
  // exec(2) fails with EACCES; like containerd, the exec then fails as a call.
  auto refused = exec_sync(env.daemon, id, {"/flagged/run.sh"});
  EXPECT_FALSE(refused.status.ok() && refused.exit_code == 0) << refused.out;
  EXPECT_NE((refused.err + refused.status.error_message()).find("Permission denied"), std::string::npos)
      << refused.err << refused.status.error_message();
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/flagged/run.sh"}).exit_code, 0) << "still readable";
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(MountOptions, WhatIsNoBindFlagIsRefusedNamingIt) {
  ContainerEnv env;
  const fs::path vol = env.daemon.dir() / "vol";
  fs::create_directories(vol);
  const std::string pod = env.run_pod("badopts");
  for (const char* bad : {"shared", "rbind", "rw", "size=1m", ""}) {
    auto c = container_config("bad", env.image, {"sleep", "3600"});
    auto* m = c.add_mounts();
    *m = bind(vol, "/v");
    m->add_mount_options("nodev");
    m->add_mount_options(bad);
    std::string id;
    auto s = create_container(env.daemon, pod, c, env.pods[pod], &id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_NE(s.error_message().find("mounts[0].mount_options[1]"), std::string::npos) << s.error_message();
  }
  v1::ListContainersResponse listed;
  ASSERT_TRUE(env.daemon.runtime()->ListContainers(deadline_ctx().get(), v1::ListContainersRequest(), &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0) << "a refused create leaves no container";
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

}  // namespace
}  // namespace crius::test
