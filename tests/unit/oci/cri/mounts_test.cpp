// Default mounts, CRI mounts and propagation, devices and namespaces.
#include "tests/unit/oci/cri/cri_spec_fixture.h"

namespace crius::oci::cri::testing {
namespace {

using CriSpecMounts = CriSpecTest;

v1::Mount* add_mount(v1::ContainerConfig& c, const std::string& ctr, const std::string& host) {
  auto* m = c.add_mounts();
  m->set_container_path(ctr);
  m->set_host_path(host);
  return m;
}

TEST_F(CriSpecMounts, Defaults) {
  auto s = build().spec;
  const json* proc = find_mount(s, "/proc");
  ASSERT_TRUE(proc);
  EXPECT_EQ((*proc)["type"], "proc");
  const json* pts = find_mount(s, "/dev/pts");
  ASSERT_TRUE(pts);
  for (const char* o : {"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}) EXPECT_TRUE(has((*pts)["options"], o)) << o;
  ASSERT_TRUE(find_mount(s, "/dev/mqueue"));
  EXPECT_TRUE(has((*find_mount(s, "/sys"))["options"], "ro"));
  EXPECT_TRUE(has((*find_mount(s, "/sys/fs/cgroup"))["options"], "ro"));
  EXPECT_EQ((*find_mount(s, "/sys/fs/cgroup"))["type"], "cgroup");
  EXPECT_EQ((*find_mount(s, "/dev/shm"))["source"], pod_.shm_path);
  EXPECT_EQ((*find_mount(s, "/etc/hostname"))["source"], pod_.hostname_path);
  EXPECT_EQ((*find_mount(s, "/etc/resolv.conf"))["source"], pod_.resolv_conf_path);
  EXPECT_FALSE(find_mount(s, "/etc/hosts")) << "no hosts_path";
  ASSERT_TRUE(find_ns(s, "cgroup")) << "cgroupfs is mounted in the container's own cgroup namespace";
}

TEST_F(CriSpecMounts, ShmWhenThePodHasNone) {
  pod_.shm_path.clear();
  EXPECT_EQ((*find_mount(build().spec, "/dev/shm"))["type"], "tmpfs");
  sc()->mutable_namespace_options()->set_ipc(v1::NODE);
  auto shm = *find_mount(build().spec, "/dev/shm");
  EXPECT_EQ(shm["source"], "/dev/shm");
  EXPECT_EQ(shm["type"], "bind");
}

TEST_F(CriSpecMounts, EtcHostsFromThePodUnlessKubeletMountsItsOwn) {
  pod_.hosts_path = tmp_ + "/pod-hosts";
  write(pod_.hosts_path, "127.0.0.1 localhost\n");
  EXPECT_EQ((*find_mount(build().spec, "/etc/hosts"))["source"], pod_.hosts_path);
  write(tmp_ + "/kubelet-hosts", "");
  add_mount(config_, "/etc/hosts", tmp_ + "/kubelet-hosts");
  auto s = build().spec;
  int n = 0;
  for (const auto& m : s["mounts"]) n += m["destination"] == "/etc/hosts";
  EXPECT_EQ(n, 1);
  EXPECT_EQ((*find_mount(s, "/etc/hosts"))["source"], tmp_ + "/kubelet-hosts");
}

TEST_F(CriSpecMounts, CriMountBasics) {
  fs::create_directories(tmp_ + "/vol");
  fs::create_symlink(tmp_ + "/vol", tmp_ + "/link");
  auto* m = add_mount(config_, "/data/", tmp_ + "/link");
  m->set_readonly(true);
  m->add_mount_options("noexec");
  auto s = build().spec;
  const json* d = find_mount(s, "/data");
  ASSERT_TRUE(d) << s["mounts"];
  EXPECT_EQ((*d)["source"], fs::canonical(tmp_ + "/vol").string()) << "the symlink is followed";
  EXPECT_EQ((*d)["type"], "bind");
  for (const char* o : {"rbind", "rprivate", "ro", "noexec"}) EXPECT_TRUE(has((*d)["options"], o)) << o;
  EXPECT_FALSE(s["linux"].contains("rootfsPropagation"));
}

TEST_F(CriSpecMounts, ImageVolumeIsAReadOnlyBindOfWhatTheDaemonMounted) {
  fs::create_directories(tmp_ + "/volume/merged/models");
  auto* m = config_.add_mounts();
  m->set_container_path("/models");
  m->mutable_image()->set_image("sha256:0123");
  m->set_image_sub_path("models");
  m->set_readonly(false);  // the daemon refuses this before it mounts; the spec is read-only anyway
  pod_.image_volumes[0] = tmp_ + "/volume/merged/models";
  auto s = build().spec;
  const json* d = find_mount(s, "/models");
  ASSERT_TRUE(d) << s["mounts"];
  EXPECT_EQ((*d)["source"], tmp_ + "/volume/merged/models");
  EXPECT_EQ((*d)["type"], "bind");
  for (const char* o : {"rbind", "rprivate", "ro"}) EXPECT_TRUE(has((*d)["options"], o)) << o;
  EXPECT_FALSE(has((*d)["options"], "rw"));
}

TEST_F(CriSpecMounts, ImageVolumeNotMountedIsAnInternalError) {
  auto* m = config_.add_mounts();
  m->set_container_path("/models");
  m->mutable_image()->set_image("sha256:0123");
  m->set_readonly(true);
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::internal);
  EXPECT_NE(std::string(e.what()).find("mounts[0]"), std::string::npos) << e.what();
}

TEST_F(CriSpecMounts, MissingHostPathIsCreated) {
  add_mount(config_, "/data", tmp_ + "/new/dir");
  build();
  EXPECT_TRUE(fs::is_directory(tmp_ + "/new/dir"));
}

TEST_F(CriSpecMounts, MountOptionsAreBindFlagsOnly) {
  fs::create_directories(tmp_ + "/vol");
  auto* m = add_mount(config_, "/data", tmp_ + "/vol");
  for (const char* o : {"nosuid", "nodev", "noexec", "noatime", "ro"}) m->add_mount_options(o);
  const json s = build().spec;
  const json* d = find_mount(s, "/data");
  ASSERT_TRUE(d);
  for (const char* o : {"nosuid", "nodev", "noexec", "noatime"}) EXPECT_TRUE(has((*d)["options"], o)) << o;
  for (const char* bad : {"shared", "rbind", "rw", "size=1m", "", "remount"}) {
    config_.mutable_mounts(0)->clear_mount_options();
    config_.mutable_mounts(0)->add_mount_options("nodev");
    config_.mutable_mounts(0)->add_mount_options(bad);
    auto e = error();
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << bad;
    EXPECT_NE(std::string(e.what()).find("mounts[0].mount_options[1]"), std::string::npos) << e.what();
  }
}

TEST_F(CriSpecMounts, RelativePathsAreRefused) {
  add_mount(config_, "data", tmp_);
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("mounts[0].container_path"), std::string::npos) << e.what();
  config_.mutable_mounts(0)->set_container_path("/data");
  config_.mutable_mounts(0)->set_host_path("rel");
  EXPECT_NE(std::string(error().what()).find("host_path"), std::string::npos);
}

TEST_F(CriSpecMounts, RecursiveReadOnlyNeedsReadonlyAndPrivate) {
  add_mount(config_, "/other", tmp_);
  auto* m = add_mount(config_, "/data", tmp_);
  m->set_recursive_read_only(true);
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("mounts[1].recursive_read_only"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("mounts[1].readonly"), std::string::npos) << e.what();
  m->set_readonly(true);
  auto opts = (*find_mount(build().spec, "/data"))["options"];
  EXPECT_TRUE(has(opts, "rro"));
  EXPECT_FALSE(has(opts, "ro"));
  // Refused whatever the host mount's propagation is (not FailedPrecondition
  // for a private host mount: the request itself is wrong).
  for (auto prop : {v1::PROPAGATION_HOST_TO_CONTAINER, v1::PROPAGATION_BIDIRECTIONAL}) {
    m->set_propagation(prop);
    e = error();
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    EXPECT_NE(std::string(e.what()).find("mounts[1].recursive_read_only"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(v1::MountPropagation_Name(prop)), std::string::npos) << e.what();
  }
}

TEST_F(CriSpecMounts, RecursiveReadOnlyRefusalCreatesNoHostPath) {
  auto* m = add_mount(config_, "/data", tmp_ + "/not-yet");
  m->set_recursive_read_only(true);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  m->set_readonly(true);
  m->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  EXPECT_FALSE(fs::exists(tmp_ + "/not-yet"));
}

TEST_F(CriSpecMounts, PropagationNeedsTheRightHostMount) {
  auto* m = add_mount(config_, "/data", tmp_);
  const std::string host = detail::mount_propagation_of(fs::canonical(tmp_).string());
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  if (host == "shared" || host == "slave") {
    auto s = build().spec;
    EXPECT_TRUE(has((*find_mount(s, "/data"))["options"], "rslave"));
    EXPECT_EQ(s["linux"]["rootfsPropagation"], "rslave");
  } else {
    EXPECT_EQ(error().code(), ErrorCode::failed_precondition);
  }
  m->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  if (host == "shared") {
    auto s = build().spec;
    EXPECT_TRUE(has((*find_mount(s, "/data"))["options"], "rshared"));
    EXPECT_EQ(s["linux"]["rootfsPropagation"], "rshared");
  } else {
    auto e = error();
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
    EXPECT_NE(std::string(e.what()).find("shared"), std::string::npos);
  }
}

TEST_F(CriSpecMounts, ParentsComeBeforeChildren) {
  fs::create_directories(tmp_ + "/a");
  fs::create_directories(tmp_ + "/b");
  add_mount(config_, "/data/sub/deeper", tmp_ + "/a");
  add_mount(config_, "/data", tmp_ + "/b");
  add_mount(config_, "/dev/shm", tmp_ + "/b");
  auto s = build().spec;
  std::map<std::string, size_t> pos;
  for (size_t i = 0; i < s["mounts"].size(); ++i) pos[s["mounts"][i]["destination"]] = i;
  EXPECT_LT(pos["/data"], pos["/data/sub/deeper"]);
  EXPECT_LT(pos["/dev"], pos["/dev/shm"]);
  EXPECT_LT(pos["/sys"], pos["/sys/fs/cgroup"]);
  EXPECT_EQ((*find_mount(s, "/dev/shm"))["source"], fs::canonical(tmp_ + "/b").string()) << "the CRI mount replaces the default";
}

TEST_F(CriSpecMounts, DevicesFromTheHost) {
  auto* d = config_.add_devices();
  d->set_container_path("/dev/mynull");
  d->set_host_path("/dev/null");
  d->set_permissions("rw");
  auto s = build().spec;
  ASSERT_EQ(s["linux"]["devices"].size(), 1u);
  auto dev = s["linux"]["devices"][0];
  EXPECT_EQ(dev["path"], "/dev/mynull");
  EXPECT_EQ(dev["type"], "c");
  EXPECT_EQ(dev["major"], 1);
  EXPECT_EQ(dev["minor"], 3);
  auto rules = s["linux"]["resources"]["devices"];
  EXPECT_EQ(rules[0], json({{"allow", false}, {"access", "rwm"}})) << "deny all first";
  EXPECT_EQ(rules.back(), json({{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}}));
  d->set_permissions("rwx");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  d->set_permissions("r");
  d->set_host_path(tmp_);
  // A directory brings its device nodes: the temp dir has none.
  EXPECT_FALSE(build().spec["linux"].contains("devices"));
  d->set_host_path(rootfs_ + "/etc/passwd");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecMounts, DeviceDirectoryBringsItsNodes) {
  if (!fs::exists("/dev/net/tun")) GTEST_SKIP() << "no /dev/net/tun on this host";
  auto* d = config_.add_devices();
  d->set_container_path("/dev/vnet");
  d->set_host_path("/dev/net");
  auto s = build().spec;
  ASSERT_EQ(s["linux"]["devices"].size(), 1u) << s["linux"]["devices"];
  EXPECT_EQ(s["linux"]["devices"][0]["path"], "/dev/vnet/tun");
  EXPECT_EQ(s["linux"]["devices"][0]["major"], 10);
  EXPECT_EQ(s["linux"]["resources"]["devices"].back()["access"], "rwm") << "permissions default to rwm";
}

// --- namespaces

TEST_F(CriSpecMounts, PodNamespacesByPath) {
  auto s = build().spec;
  EXPECT_EQ((*find_ns(s, "network"))["path"], "/run/crius/ns/net/podid");
  EXPECT_EQ((*find_ns(s, "ipc"))["path"], "/run/crius/ns/ipc/podid");
  EXPECT_EQ((*find_ns(s, "uts"))["path"], "/run/crius/ns/uts/podid");
  EXPECT_EQ((*find_ns(s, "pid"))["path"], "/proc/4242/ns/pid") << "POD is the proto default";
  EXPECT_FALSE(find_ns(s, "mount")->contains("path"));
  EXPECT_FALSE(find_ns(s, "user"));
  EXPECT_FALSE(s.contains("hostname")) << "the UTS namespace is joined, its hostname is set";
}

TEST_F(CriSpecMounts, NamespaceModes) {
  auto* ns = sc()->mutable_namespace_options();
  ns->set_pid(v1::CONTAINER);
  EXPECT_FALSE(find_ns(build().spec, "pid")->contains("path"));
  ns->set_pid(v1::NODE);
  ns->set_network(v1::NODE);
  ns->set_ipc(v1::NODE);
  auto s = build().spec;
  EXPECT_FALSE(find_ns(s, "pid"));
  EXPECT_FALSE(find_ns(s, "network"));
  EXPECT_FALSE(find_ns(s, "ipc"));
  EXPECT_FALSE(find_ns(s, "uts")) << "host network means host UTS";
  ASSERT_TRUE(find_ns(s, "mount"));
}

TEST_F(CriSpecMounts, NewUtsGetsTheHostname) {
  pod_.namespaces.erase("uts");
  auto s = build().spec;
  EXPECT_FALSE(find_ns(s, "uts")->contains("path"));
  EXPECT_EQ(s["hostname"], "pod-a");
}

TEST_F(CriSpecMounts, ContainersJoinThePodsUserNamespaceWithIdmappedBinds) {
  sc()->mutable_namespace_options()->mutable_userns_options()->set_mode(v1::POD);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument) << "the pod has none";
  sc()->mutable_namespace_options()->mutable_userns_options()->set_mode(v1::CONTAINER);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
  sc()->mutable_namespace_options()->mutable_userns_options()->set_mode(v1::NODE);
  EXPECT_FALSE(find_ns(build().spec, "user"));

  pod_.namespaces["user"] = "/run/crius/ns/pod/user";
  pod_.uid_mappings = {{0, 1000000, 65536}};
  pod_.gid_mappings = {{0, 2000000, 65536}};
  sc()->mutable_namespace_options()->mutable_userns_options()->set_mode(v1::POD);
  auto s = build().spec;
  ASSERT_TRUE(find_ns(s, "user"));
  EXPECT_EQ((*find_ns(s, "user"))["path"], "/run/crius/ns/pod/user");
  const nlohmann::json uids = {{{"containerID", 0}, {"hostID", 1000000}, {"size", 65536}}};
  const nlohmann::json gids = {{{"containerID", 0}, {"hostID", 2000000}, {"size", 65536}}};
  EXPECT_EQ(s["linux"]["uidMappings"], uids);
  EXPECT_EQ(s["linux"]["gidMappings"], gids);
  // Every bind mount is idmapped with the pod's maps; kernel filesystems are not.
  int binds = 0;
  for (const auto& m : s["mounts"]) {
    const auto opts = m["options"].get<std::vector<std::string>>();
    const bool idmap = std::count(opts.begin(), opts.end(), "idmap") + std::count(opts.begin(), opts.end(), "ridmap");
    if (m["type"] == "bind") {
      ++binds;
      EXPECT_TRUE(idmap) << m.dump();
      EXPECT_EQ(m["uidMappings"], uids) << m.dump();
      EXPECT_EQ(m["gidMappings"], gids) << m.dump();
    } else {
      EXPECT_FALSE(idmap) << m.dump();
    }
  }
  EXPECT_GT(binds, 0);
}

TEST_F(CriSpecMounts, PodSysctls) {
  (*pod_config_.mutable_linux()->mutable_sysctls())["net.ipv4.ip_forward"] = "1";
  EXPECT_EQ(build().spec["linux"]["sysctl"]["net.ipv4.ip_forward"], "1");
}

}  // namespace
}  // namespace crius::oci::cri::testing
