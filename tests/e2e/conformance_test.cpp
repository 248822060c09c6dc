// What the CRI validation suite (critest), crictl and kubelet expect of a
// runtime beyond the configs our other tests fill completely: a pod without
// a hostname, hostnames the kernel would take but DNS would not, mount
// propagation both ways, privileged containers and seccomp, run_as_group
// alone, and the idempotence rules of the stop, remove and status calls.
// conformance_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/conformance_helpers.h"
//
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

// --- 1. Hostname -------------------------------------------------------------------------------

// critest's and crictl's pods carry metadata only. containerd and cri-o then
// give the pod its own UTS namespace holding the node's hostname; the pod
// name (80 bytes here) is no fallback: the kernel takes 64 at most.
TEST(Conformance, PodWithoutHostnameGetsTheNodesHostname) {
  ContainerEnv env;
  std::string name = "a-pod-whose-name-is-longer-than-any-hostname-";
  name += std::string(80 - name.size(), 'x');
  ASSERT_EQ(name.size(), 80u);
  const auto pc = bare_pod_config(name);
  std::string pod;
  auto s = run_pod(env.daemon, pc, &pod);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(pod_status(env.daemon, pod).status().metadata().name(), name);

  std::string id;
  s = create_container(env.daemon, pod, bare_container_config("c", env.image, {"sleep", "3600"}), pc, &id);
  ASSERT_TRUE(s.ok()) << describe(s);
  s = start_container(env.daemon, id);
  ASSERT_TRUE(s.ok()) << describe(s);

  const std::string node = node_hostname();
  auto ex = exec_sync(env.daemon, id, {"hostname"});
  ASSERT_TRUE(ex.status.ok()) << describe(ex.status);
  EXPECT_EQ(ex.out, node + "\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/etc/hostname"}).out, node + "\n");
  // The node's name, in a UTS namespace of the pod's own (it is not on the host network).
  const int pid = container_pid(env.daemon, id);
  ASSERT_GT(pid, 0);
  EXPECT_NE(ns_link_of(std::to_string(pid), "uts"), ns_link_of("self", "uts"));
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

// kubelet validates hostnames before they reach the runtime; the runtime
// refuses the ones the CRI cannot mean: over 64 bytes (the kernel's limit)
// or not a dot-separated sequence of DNS labels.
// crictl's container configs name no network mode, and a kubelet's copy
// the pod's: either way a container of a host-network pod is on the host's
// network (it used to get a network namespace of its own, with only lo).
TEST(Conformance, ContainerOfAHostNetworkPodIsOnTheHostNetwork) {
  ContainerEnv env;
  auto pc = bare_pod_config("hostnet");
  set_host_network(pc);
  std::string pod;
  ASSERT_TRUE(run_pod(env.daemon, pc, &pod).ok());
  auto cc = bare_container_config("c", env.image, {"sleep", "3600"});
  // A container that names its own PID mode only, as crictl's do.
  cc.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  std::string id;
  ASSERT_TRUE(create_container(env.daemon, pod, cc, pc, &id).ok());
  ASSERT_TRUE(start_container(env.daemon, id).ok());
  const int pid = container_pid(env.daemon, id);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(ns_link_of(std::to_string(pid), "net"), ns_link_of("self", "net"));
  EXPECT_EQ(ns_link_of(std::to_string(pid), "uts"), ns_link_of("self", "uts"));
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Conformance, InvalidHostnameIsRefusedAndLeavesNothingBehind) {
  ContainerEnv env;
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  // 69 bytes of valid labels: only the length is wrong.
  const std::string too_long = "abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abc";
  ASSERT_GT(too_long.size(), 64u);
  for (const std::string& hostname : {too_long, std::string("bad_host!"), std::string("-a"), std::string("a-"),
                                      std::string("a..b"), std::string(".a"), std::string("a b")}) {
    auto pc = bare_pod_config("badhost");
    pc.set_hostname(hostname);
    std::string pod;
    auto s = run_pod(env.daemon, pc, &pod);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "hostname \"" << hostname << "\": " << describe(s);
    EXPECT_NE(s.error_message().find("hostname"), std::string::npos)
        << "hostname \"" << hostname << "\": " << s.error_message();
  }
  EXPECT_TRUE(list_pods(env.daemon).empty());
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
}

// --- 2. Mount propagation ----------------------------------------------------------------------

// A host directory that is a mount point in a shared peer group of its own,
// as kubelet's bidirectional volumes are (`mount --bind d d; mount
// --make-private d; mount --make-shared d`: private first, so that it leaves
// the peer group of the mount it lies on). Everything mounted under it,
// by the test or propagated back from a container, is detached with it.
class SharedHostDir {
 public:
  SharedHostDir() : path_(tmp_ / "shared") {
    fs::create_directories(path_);
    path_ = fs::canonical(path_).string();  // as mountinfo will list it
    try {
      make(path_, path_, nullptr, MS_BIND, "bind-mounting");
      make("", path_, nullptr, MS_PRIVATE, "making private");
      make("", path_, nullptr, MS_SHARED, "making shared");
    } catch (...) {
      detach_all();
      throw;
    }
  }
  ~SharedHostDir() { detach_all(); }
  SharedHostDir(const SharedHostDir&) = delete;
  SharedHostDir& operator=(const SharedHostDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  // A tmpfs mounted on the host at <path>/<rel>.
  void mount_tmpfs(const std::string& rel) { make("tmpfs", *this / rel, "tmpfs", 0, "mounting a tmpfs on"); }

 private:
  static void make(const std::string& src, const std::string& dst, const char* type, unsigned long flags,
                   const char* what) {
    if (::mount(src.c_str(), dst.c_str(), type, flags, nullptr) != 0)
      throw std::runtime_error(std::string(what) + " " + dst + ": " + std::strerror(errno));
  }
  std::vector<std::string> points_under() const {
    std::vector<std::string> out;
    for (const auto& p : mount_points())
      if (p == path_ || p.rfind(path_ + "/", 0) == 0) out.push_back(p);
    return out;
  }
  // Deepest first, again and again for mounts stacked on one point.
  void detach_all() {
    for (int round = 0; round < 50; ++round) {
      auto points = points_under();
      if (points.empty()) return;
      std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
      for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
    }
  }

  TempDir tmp_;
  std::string path_;
};

// A privileged container in a privileged pod, with the shared host dir
// mounted at /shared with `mode`; then one tmpfs mounted on the host under
// it and one mounted in the container under it, each looked for on the
// other side.
void check_propagation(v1::MountPropagation mode, bool host_to_container, bool container_to_host) {
  SharedHostDir host;  // before the env: the pod is removed before the mounts are undone
  fs::create_directories(host / "fromhost");
  fs::create_directories(host / "inner");
  ContainerEnv env;
  auto pc = pod_config("prop");
  pc.mutable_linux()->mutable_security_context()->set_privileged(true);
  const std::string pod = env.run_pod(pc);
  auto cc = container_config("c", env.image, {"sleep", "3600"});
  cc.mutable_linux()->mutable_security_context()->set_privileged(true);
  auto* m = cc.add_mounts();
  m->set_container_path("/shared");
  m->set_host_path(host.path());
  m->set_propagation(mode);
  std::string id;
  auto s = create_container(env.daemon, pod, cc, env.pods[pod], &id);
  ASSERT_TRUE(s.ok()) << describe(s);
  s = start_container(env.daemon, id);
  ASSERT_TRUE(s.ok()) << describe(s);
  ASSERT_TRUE(wait_state(env.daemon, id, v1::CONTAINER_RUNNING));

  // Host to container: a tmpfs mounted on the host after the start.
  host.mount_tmpfs("fromhost");
  write_file(host / "fromhost/marker", "from the host\n");
  auto seen = exec_sync(env.daemon, id, {"cat", "/shared/fromhost/marker"});
  ASSERT_TRUE(seen.status.ok()) << describe(seen.status);
  const std::string mounts_inside = exec_sync(env.daemon, id, {"cat", "/proc/mounts"}).out;
  const bool listed_inside = mounts_inside.find(" /shared/fromhost tmpfs ") != std::string::npos;
  if (host_to_container) {
    EXPECT_EQ(seen.out, "from the host\n") << seen.err;
    EXPECT_TRUE(listed_inside) << mounts_inside;
  } else {
    EXPECT_NE(seen.exit_code, 0) << "the host's tmpfs reached the container: " << seen.out;
    EXPECT_FALSE(listed_inside) << mounts_inside;
  }

  // Container to host: a tmpfs the (privileged) container mounts itself.
  auto made = exec_sync(env.daemon, id,
                        {"sh", "-c", "mount -t tmpfs tmpfs /shared/inner && echo from the container > /shared/inner/marker"});
  ASSERT_TRUE(made.status.ok()) << describe(made.status);
  ASSERT_EQ(made.exit_code, 0) << "a privileged container can mount: " << made.err;
  const std::string after_inside = exec_sync(env.daemon, id, {"cat", "/proc/mounts"}).out;
  EXPECT_NE(after_inside.find(" /shared/inner tmpfs "), std::string::npos) << after_inside;
  const bool on_host = is_mount_point(host / "inner");
  const bool marker_on_host = fs::exists(host / "inner/marker");
  if (container_to_host) {
    EXPECT_TRUE(on_host) << "the container's tmpfs is not in the host's mountinfo";
    EXPECT_EQ(read_file(host / "inner/marker"), "from the container\n");
  } else {
    EXPECT_FALSE(on_host) << "the container's tmpfs reached the host";
    EXPECT_FALSE(marker_on_host);
  }
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Conformance, BidirectionalMountPropagatesBothWays) {
  check_propagation(v1::PROPAGATION_BIDIRECTIONAL, true, true);
}

TEST(Conformance, HostToContainerMountPropagatesOnlyIntoTheContainer) {
  check_propagation(v1::PROPAGATION_HOST_TO_CONTAINER, true, false);
}

TEST(Conformance, PrivateMountPropagatesNeitherWay) { check_propagation(v1::PROPAGATION_PRIVATE, false, false); }

// --- 3. Privileged containers and seccomp ------------------------------------------------------

// A profile that lets everything through but sethostname, which fails with ENOSYS.
constexpr const char* kNoSethostname =
    R"({"defaultAction":"SCMP_ACT_ALLOW",)"
    R"("syscalls":[{"names":["sethostname"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]})";

// A privileged pod on the pod network: its own UTS namespace, which its
// containers may rename.
std::string run_privileged_pod(ContainerEnv& env, const std::string& name) {
  auto pc = pod_config(name);
  pc.mutable_linux()->mutable_security_context()->set_privileged(true);
  // Never the host network: a rename there would rename the node.
  if (pc.linux().security_context().namespace_options().network() != v1::POD)
    throw std::runtime_error("the pod must be on the pod network");
  return env.run_pod(pc);
}

// Whether the exec'd process of container `id` (the one that would call
// sethostname) and the container's first process are in a UTS namespace
// that is not the test's: the node's. Failures say why.
::testing::AssertionResult in_own_uts_namespace(Daemon& d, const std::string& id) {
  const std::string node_uts = ns_link_of("self", "uts");
  if (node_uts.empty()) return ::testing::AssertionFailure() << "cannot read /proc/self/ns/uts";
  const int pid = container_pid(d, id);
  if (pid <= 0) return ::testing::AssertionFailure() << "no pid for container " << id;
  const std::string first = ns_link_of(std::to_string(pid), "uts");
  auto ex = exec_sync(d, id, {"readlink", "/proc/self/ns/uts"});
  const std::string exec_uts = trim_newlines(ex.out);
  if (!ex.status.ok() || ex.exit_code != 0 || exec_uts.empty())
    return ::testing::AssertionFailure() << "readlink in the container: " << describe(ex.status) << " " << ex.err;
  if (first.empty() || first == node_uts || exec_uts == node_uts)
    return ::testing::AssertionFailure() << "node " << node_uts << ", container " << first << ", exec " << exec_uts;
  return ::testing::AssertionSuccess();
}

// containerd and cri-o apply no seccomp profile to a privileged container,
// whatever the config asks for (critest: "should ignore a seccomp profile
// that blocks setting the hostname when privileged").
void check_privileged_renames_despite(const v1::SecurityProfile& profile, const std::string& pod_name,
                                      const std::string& new_name, bool profile_blocks_sethostname) {
  ContainerEnv env;
  const std::string node_before = node_hostname();
  const std::string pod = run_privileged_pod(env, pod_name);

  if (profile_blocks_sethostname) {
    // The control: the same profile on a container that is not privileged
    // but may set the hostname (CAP_SYS_ADMIN) is held back by it.
    auto control = container_config("control", env.image, {"sleep", "3600"});
    auto* sc = control.mutable_linux()->mutable_security_context();
    sc->mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
    *sc->mutable_seccomp() = profile;
    std::string cid;
    auto s = create_container(env.daemon, pod, control, env.pods[pod], &cid);
    ASSERT_TRUE(s.ok()) << describe(s);
    ASSERT_TRUE(start_container(env.daemon, cid).ok());
    ASSERT_TRUE(in_own_uts_namespace(env.daemon, cid));
    auto r = exec_sync(env.daemon, cid, {"hostname", "control-renamed"});
    EXPECT_NE(r.exit_code, 0) << "the profile did not block sethostname";
    EXPECT_NE(r.err.find("not implemented"), std::string::npos) << "refused by the profile (ENOSYS): " << r.err;
    EXPECT_EQ(exec_sync(env.daemon, cid, {"hostname"}).out, pod_name + "\n");
  }

  auto priv = container_config("priv", env.image, {"sleep", "3600"});
  auto* sc = priv.mutable_linux()->mutable_security_context();
  sc->set_privileged(true);
  *sc->mutable_seccomp() = profile;
  std::string id;
  auto s = create_container(env.daemon, pod, priv, env.pods[pod], &id);
  ASSERT_TRUE(s.ok()) << describe(s);
  s = start_container(env.daemon, id);
  ASSERT_TRUE(s.ok()) << describe(s);
  // Only ever rename a UTS namespace that is not the node's.
  ASSERT_TRUE(in_own_uts_namespace(env.daemon, id));
  EXPECT_EQ(proc_status_field(container_pid(env.daemon, id), "Seccomp"), "0") << "no filter on a privileged container";
  auto r = exec_sync(env.daemon, id, {"hostname", new_name});
  ASSERT_TRUE(r.status.ok()) << describe(r.status);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(exec_sync(env.daemon, id, {"hostname"}).out, new_name + "\n");
  EXPECT_EQ(node_hostname(), node_before) << "the node was renamed";
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Conformance, PrivilegedContainerIgnoresTheRuntimeDefaultSeccompProfile) {
  v1::SecurityProfile p;
  p.set_profile_type(v1::SecurityProfile::RuntimeDefault);
  check_privileged_renames_despite(p, "seccomp-default", "renamed-by-priv", false);
}

TEST(Conformance, PrivilegedContainerIgnoresALocalhostSeccompProfile) {
  TempDir profiles;
  const std::string path = profiles / "no-sethostname.json";
  write_file(path, kNoSethostname);
  v1::SecurityProfile p;
  p.set_profile_type(v1::SecurityProfile::Localhost);
  p.set_localhost_ref(path);
  check_privileged_renames_despite(p, "seccomp-local", "renamed-despite-profile", true);
}

// --- 4. run_as_group alone ---------------------------------------------------------------------

// A group without a user has no meaning in the CRI: containerd refuses it
// ("user group is specified without user"), and critest checks the refusal.
TEST(Conformance, RunAsGroupWithoutAUserIsRefused) {
  ContainerEnv env;
  const std::string pod = env.run_pod("group-only");
  auto cc = container_config("c", env.image, {"sleep", "3600"});
  cc.mutable_linux()->mutable_security_context()->mutable_run_as_group()->set_value(1000);
  std::string id;
  auto s = create_container(env.daemon, pod, cc, env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(s);
  EXPECT_NE(s.error_message().find("run_as_group"), std::string::npos) << s.error_message();
  EXPECT_TRUE(list_containers(env.daemon).empty());
  EXPECT_EQ(container_bundles(env.daemon), 0u) << "a refused create leaves no bundle";

  // With a user, by ID or by name, a group is fine (and is not the user's own).
  auto with_user = cc;
  with_user.mutable_metadata()->set_name("with-user");
  auto* user_sc = with_user.mutable_linux()->mutable_security_context();
  user_sc->mutable_run_as_user()->set_value(1000);
  user_sc->mutable_run_as_group()->set_value(3000);
  const std::string a = env.create(pod, with_user);
  EXPECT_EQ(exec_sync(env.daemon, a, {"id", "-g"}).out, "3000\n");
  auto with_name = cc;
  with_name.mutable_metadata()->set_name("with-name");
  auto* name_sc = with_name.mutable_linux()->mutable_security_context();
  name_sc->set_run_as_username("app");
  name_sc->mutable_run_as_group()->set_value(2000);
  const std::string b = env.create(pod, with_name);
  EXPECT_EQ(exec_sync(env.daemon, b, {"id", "-g"}).out, "2000\n");
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

// --- 5. Idempotence ----------------------------------------------------------------------------

// kubelet retries stops and removes after restarts and races: a pod that
// is gone, or never was, is already stopped and removed.
TEST(Conformance, StopAndRemoveOfUnknownOrRemovedPodsSucceed) {
  ContainerEnv env;
  const std::string never = unknown_id();
  auto s = stop_pod(env.daemon, never);
  EXPECT_TRUE(s.ok()) << "StopPodSandbox of an unknown ID: " << describe(s);
  s = remove_pod(env.daemon, never);
  EXPECT_TRUE(s.ok()) << "RemovePodSandbox of an unknown ID: " << describe(s);

  const std::string pod = env.run_pod("gone");
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  s = stop_pod(env.daemon, pod);
  EXPECT_TRUE(s.ok()) << "StopPodSandbox of a removed pod: " << describe(s);
  s = remove_pod(env.daemon, pod);
  EXPECT_TRUE(s.ok()) << "RemovePodSandbox of a removed pod: " << describe(s);
  EXPECT_TRUE(list_pods(env.daemon).empty());
}

TEST(Conformance, StopAndRemoveOfUnknownContainersSucceedAndStopRepeats) {
  ContainerEnv env;
  const std::string never = unknown_id();
  auto s = stop_container(env.daemon, never, 0);
  EXPECT_TRUE(s.ok()) << "StopContainer of an unknown ID: " << describe(s);
  s = remove_container(env.daemon, never);
  EXPECT_TRUE(s.ok()) << "RemoveContainer of an unknown ID: " << describe(s);

  const std::string pod = env.run_pod("stops");
  const std::string id = env.create(pod, container_config("c", env.image, {"sleep", "3600"}));
  ASSERT_TRUE(stop_container(env.daemon, id, 0).ok());
  const auto first = container_status(env.daemon, id).status();
  ASSERT_EQ(first.state(), v1::CONTAINER_EXITED);
  for (int i = 0; i < 2; ++i) {
    s = stop_container(env.daemon, id, 0);
    EXPECT_TRUE(s.ok()) << "StopContainer of a stopped container, time " << i + 2 << ": " << describe(s);
    const auto again = container_status(env.daemon, id).status();
    EXPECT_EQ(again.state(), v1::CONTAINER_EXITED);
    EXPECT_EQ(again.finished_at(), first.finished_at()) << "a repeated stop changes nothing";
    EXPECT_EQ(again.exit_code(), first.exit_code());
  }
  ASSERT_TRUE(remove_container(env.daemon, id).ok());
  s = stop_container(env.daemon, id, 0);
  EXPECT_TRUE(s.ok()) << "StopContainer of a removed container: " << describe(s);
  s = remove_container(env.daemon, id);
  EXPECT_TRUE(s.ok()) << "RemoveContainer of a removed container: " << describe(s);
  EXPECT_TRUE(list_containers(env.daemon).empty());
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

TEST(Conformance, RemoveImageOfAGoneImageSucceeds) {
  ContainerEnv env;  // has pulled the test image
  grpc::Status s;
  ASSERT_TRUE(image_status(env.daemon, env.image, &s).has_image()) << describe(s);
  s = remove_image(env.daemon, env.image);
  ASSERT_TRUE(s.ok()) << describe(s);
  auto st = image_status(env.daemon, env.image, &s);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_FALSE(st.has_image()) << "removed";
  s = remove_image(env.daemon, env.image);
  EXPECT_TRUE(s.ok()) << "RemoveImage of a removed image: " << describe(s);
  s = remove_image(env.daemon, "127.0.0.1:1/never/pulled:v1");
  EXPECT_TRUE(s.ok()) << "RemoveImage of an image never pulled: " << describe(s);
  s = remove_image(env.daemon, "sha256:" + unknown_id());
  EXPECT_TRUE(s.ok()) << "RemoveImage of an unknown image ID: " << describe(s);
}

// The status and stats calls are not idempotent operations: an unknown ID is
// NotFound, which is how kubelet learns that a pod or container is gone.
TEST(Conformance, StatusAndStatsOfUnknownIdsAreNotFound) {
  ContainerEnv env;
  const std::string never = unknown_id();
  {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(never);
    v1::PodSandboxStatusResponse res;
    auto s = call(env.daemon.runtime(), &v1::RuntimeService::Stub::PodSandboxStatus, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << "PodSandboxStatus: " << describe(s);
  }
  {
    v1::ContainerStatusRequest req;
    req.set_container_id(never);
    v1::ContainerStatusResponse res;
    auto s = call(env.daemon.runtime(), &v1::RuntimeService::Stub::ContainerStatus, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << "ContainerStatus: " << describe(s);
  }
  {
    v1::ContainerStatsRequest req;
    req.set_container_id(never);
    v1::ContainerStatsResponse res;
    auto s = call(env.daemon.runtime(), &v1::RuntimeService::Stub::ContainerStats, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << "ContainerStats: " << describe(s);
  }
  {
    v1::PodSandboxStatsRequest req;
    req.set_pod_sandbox_id(never);
    v1::PodSandboxStatsResponse res;
    auto s = call(env.daemon.runtime(), &v1::RuntimeService::Stub::PodSandboxStats, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << "PodSandboxStats: " << describe(s);
  }
}

// api/cri.proto: "Returns one image's details; an absent image yields an
// empty `image`" and "`image` unset when the image is not present": OK, not
// NotFound (kubelet pulls when it sees no image).
TEST(Conformance, ImageStatusOfAnAbsentImageIsOkWithNoImage) {
  ContainerEnv env;
  for (const std::string& image : {std::string("127.0.0.1:1/never/pulled:v1"), "sha256:" + unknown_id()}) {
    for (bool verbose : {false, true}) {
      grpc::Status s;
      auto res = image_status(env.daemon, image, &s, verbose);
      EXPECT_TRUE(s.ok()) << image << " verbose=" << verbose << ": " << describe(s);
      EXPECT_FALSE(res.has_image()) << image << " verbose=" << verbose;
    }
  }
  grpc::Status s;
  EXPECT_TRUE(image_status(env.daemon, env.image, &s).has_image()) << "the pulled one is found: " << describe(s);
}

}  // namespace
}  // namespace crius::test
