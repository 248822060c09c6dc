// Pods with a user namespace of their own (hostUsers: false; userns_options
// mode POD), driven as kubelet drives them: the pod's root is an unprivileged
// user on the node, its volumes and files are idmapped, its network, IPC and
// UTS namespaces are its own; every refusal names the field and makes
// nothing; a daemon restart keeps the namespace; nothing is left behind.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kRange = 65536;

void set_userns(v1::NamespaceOption* ns, uint32_t host_id, uint32_t length = kRange) {
  auto* u = ns->mutable_userns_options();
  u->set_mode(v1::POD);
  for (auto* m : {u->add_uids(), u->add_gids()}) {
    m->set_host_id(host_id);
    m->set_container_id(0);
    m->set_length(length);
  }
}

// A pod config as kubelet sends it for hostUsers: false.
v1::PodSandboxConfig userns_pod(const std::string& name, uint32_t host_id) {
  auto c = pod_config(name);
  set_userns(c.mutable_linux()->mutable_security_context()->mutable_namespace_options(), host_id);
  return c;
}

// kubelet copies the pod's namespace options, userns_options included, to each container.
v1::ContainerConfig userns_container(const std::string& name, const std::string& image,
                                     const std::vector<std::string>& cmd, const v1::PodSandboxConfig& pod) {
  auto c = container_config(name, image, cmd);
  auto* ns = c.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  *ns->mutable_userns_options() = pod.linux().security_context().namespace_options().userns_options();
  ns->set_pid(pod.linux().security_context().namespace_options().pid() == v1::POD ? v1::POD : v1::CONTAINER);
  return c;
}

// The pod's root is an unprivileged user of the node: the directories down
// to its root filesystem must be searchable by it. The daemon opens those
// inside its own root; the test's temporary directory is the test's.
struct UsernsEnv : ContainerEnv {
  UsernsEnv() { fs::permissions(daemon.dir().path(), fs::perms::others_exec, fs::perm_options::add); }
};

// Whitespace runs as one space, none at the ends ("0  1000000   65536\n" → "0 1000000 65536").
std::string squash(const std::string& s) {
  std::istringstream in(s);
  std::string out, word;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

int pid_of(Daemon& d, const std::string& id) { return container_info(d, id).value("pid", 0); }

// The inode of a namespace file (a /proc/<pid>/ns/ link or a pin).
ino_t ns_ino(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}
std::string ns_of(int pid, const char* kind) { return "/proc/" + std::to_string(pid) + "/ns/" + kind; }

std::string user_pin(Daemon& d, const std::string& pod) {
  return pod_info(d, pod).value("namespaces", nlohmann::json::object()).value("user", "");
}

// Runs `argv` (busybox applets) in a child of the test that joined the user
// namespace at `pin` and nothing else, as its root: the pod's root with
// every capability of its user namespace, in the node's other namespaces.
// Its exit code.
int as_pod_root_on_the_node(const std::string& pin, const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(pin.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWUSER) != 0) ::_exit(200);
    // Its root: the node's uid and gid of the pod's 0, no other groups.
    if (::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) ::_exit(202);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv("/usr/bin/busybox", args.data());
    ::_exit(201);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

// Processes of the node whose real uid is in [from, from + kRange).
std::vector<int> processes_of_range(uint32_t from) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string uid = proc_status_field(std::stoi(name), "Uid");
    if (uid.empty()) continue;
    const unsigned long u = std::stoul(uid);
    if (u >= from && u < from + kRange) out.push_back(std::stoi(name));
  }
  return out;
}

TEST(UserNamespace, PodRootIsAnUnprivilegedUserOfTheNode) {
  UsernsEnv env;
  const std::string vol = env.daemon.dir() / "volume";
  fs::create_directories(vol);
  write_file(vol + "/node-file", "from the node\n");
  const auto pod_cfg = userns_pod("userns", 1000000);
  const std::string pod = env.run_pod(pod_cfg);

  auto c = userns_container("app", env.image, {"sleep", "3600"}, pod_cfg);
  auto* m = c.add_mounts();
  m->set_host_path(vol);
  m->set_container_path("/vol");
  c.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  const std::string id = env.create(pod, c);
  const int pid = pid_of(env.daemon, id);
  ASSERT_GT(pid, 0);

  // Inside: the pod's map, and root.
  EXPECT_EQ(squash(exec_sync(env.daemon, id, {"cat", "/proc/self/uid_map"}).out), "0 1000000 65536");
  EXPECT_EQ(squash(exec_sync(env.daemon, id, {"cat", "/proc/self/gid_map"}).out), "0 1000000 65536");
  EXPECT_EQ(exec_sync(env.daemon, id, {"id", "-u"}).out, "0\n");
  // On the node: uid 1000000, in a user namespace that is not the node's.
  EXPECT_EQ(proc_status_field(pid, "Uid").substr(0, 7), "1000000");
  EXPECT_EQ(proc_status_field(pid, "Gid").substr(0, 7), "1000000");
  EXPECT_EQ(ns_ino(ns_of(pid, "user")), ns_ino(user_pin(env.daemon, pod)));
  EXPECT_NE(ns_ino("/proc/self/ns/user"), ns_ino(ns_of(pid, "user")));
  EXPECT_EQ(container_status(env.daemon, id).status().user().linux().uid(), 0);

  // The image's files are root's inside (the idmapped overlay), and the
  // writable layer takes writes.
  EXPECT_EQ(exec_sync(env.daemon, id, {"stat", "-c", "%u:%g", "/bin/busybox", "/etc/passwd"}).out, "0:0\n0:0\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"sh", "-c", "echo x > /etc/new && stat -c %u /etc/new"}).out, "0\n");

  // The volume: an ID on disk is the same ID inside (as kubelet expects, so
  // fsGroup and runAsUser need no chown): the node's file is root's, and
  // what the pod's root writes is stored as the node's ID 0.
  EXPECT_EQ(exec_sync(env.daemon, id, {"stat", "-c", "%u", "/vol/node-file"}).out, "0\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/vol/node-file"}).out, "from the node\n");
  auto w = exec_sync(env.daemon, id, {"sh", "-c", "echo from-pod > /vol/pod-file && cat /vol/pod-file"});
  EXPECT_EQ(w.out, "from-pod\n") << w.err;
  struct stat st {};
  ASSERT_EQ(::stat((vol + "/pod-file").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(read_file(vol + "/pod-file"), "from-pod\n");
  // /etc/hostname, /etc/hosts, /etc/resolv.conf and /dev/shm are the pod's, idmapped.
  EXPECT_EQ(exec_sync(env.daemon, id, {"stat", "-c", "%u", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}).out,
            "0\n0\n0\n");
  EXPECT_EQ(exec_sync(env.daemon, id, {"sh", "-c", "echo s > /dev/shm/s && cat /dev/shm/s"}).out, "s\n");

  // Its own network: it can change it, sysfs shows it; the node's is untouched.
  const std::string node_mtu = read_file("/sys/class/net/lo/mtu");
  auto ip = exec_sync(env.daemon, id, {"sh", "-c", "ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu"});
  EXPECT_EQ(ip.out, "1400\n") << ip.err;
  EXPECT_EQ(read_file("/sys/class/net/lo/mtu"), node_mtu);
  // Capabilities apply as without a user namespace: no CAP_SYS_ADMIN, no mount.
  EXPECT_NE(exec_sync(env.daemon, id, {"mount", "-t", "tmpfs", "t", "/mnt"}).exit_code, 0);
  EXPECT_NE(exec_sync(env.daemon, id, {"mknod", "/tmp/blk", "b", "7", "0"}).exit_code, 0);
  // Masked paths too.
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/proc/kcore"}).out, "");

  // The pod's root with every capability of its user namespace has none
  // over the node: not its hostname, not its network, not its root's files.
  const std::string pin = user_pin(env.daemon, pod);
  ASSERT_FALSE(pin.empty());
  const std::string hostname = squash(read_file("/proc/sys/kernel/hostname"));
  EXPECT_NE(as_pod_root_on_the_node(pin, {"hostname", "crius-userns-evil"}), 0);
  EXPECT_EQ(squash(read_file("/proc/sys/kernel/hostname")), hostname);
  EXPECT_NE(as_pod_root_on_the_node(pin, {"ip", "link", "set", "lo", "mtu", "1300"}), 0);
  EXPECT_EQ(read_file("/sys/class/net/lo/mtu"), node_mtu);
  const std::string node_owned = env.daemon.dir() / "node-owned";
  write_file(node_owned, "keep\n");
  ::chmod(node_owned.c_str(), 0644);
  EXPECT_NE(as_pod_root_on_the_node(pin, {"sh", "-c", "echo no > " + node_owned}), 0);
  EXPECT_EQ(read_file(node_owned), "keep\n");
}

TEST(UserNamespace, RunAsUserAndTheImageUserAreIdsInside) {
  UsernsEnv env;
  const std::string vol = env.daemon.dir() / "volume";
  fs::create_directories(vol);
  fs::permissions(vol, fs::perms::all);
  const auto pod_cfg = userns_pod("userns-user", 1000000);
  const std::string pod = env.run_pod(pod_cfg);
  auto c = userns_container("app", env.image, {"sh", "-c", "touch /vol/by-1000; exec sleep 3600"}, pod_cfg);
  c.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(1000);
  auto* m = c.add_mounts();
  m->set_host_path(vol);
  m->set_container_path("/vol");
  const std::string id = env.create(pod, c);
  EXPECT_EQ(exec_sync(env.daemon, id, {"id", "-u"}).out, "1000\n");
  EXPECT_EQ(proc_status_field(pid_of(env.daemon, id), "Uid").substr(0, 7), "1001000");
  EXPECT_EQ(container_status(env.daemon, id).status().user().linux().uid(), 1000);
  struct stat st {};
  ASSERT_EQ(::stat((vol + "/by-1000").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
}

TEST(UserNamespace, TwoPodsHaveDisjointMapsAndCannotSignalEachOther) {
  UsernsEnv env;
  const auto a_cfg = userns_pod("userns-a", 1000000), b_cfg = userns_pod("userns-b", 1065536);
  const std::string a = env.run_pod(a_cfg), b = env.run_pod(b_cfg);
  const std::string ca = env.create(a, userns_container("a", env.image, {"sleep", "3600"}, a_cfg));
  const std::string cb = env.create(b, userns_container("b", env.image, {"sleep", "3600"}, b_cfg));
  EXPECT_EQ(squash(exec_sync(env.daemon, cb, {"cat", "/proc/self/uid_map"}).out), "0 1065536 65536");
  const int pa = pid_of(env.daemon, ca), pb = pid_of(env.daemon, cb);
  EXPECT_EQ(proc_status_field(pb, "Uid").substr(0, 7), "1065536");
  EXPECT_NE(ns_ino(ns_of(pa, "user")), ns_ino(ns_of(pb, "user")));
  // Pod b's root, with CAP_KILL in its own namespace, cannot signal pod a's process.
  EXPECT_NE(as_pod_root_on_the_node(user_pin(env.daemon, b), {"kill", "-0", std::to_string(pa)}), 0);
  EXPECT_EQ(::kill(pa, 0), 0);
}

TEST(UserNamespace, SharedPidNamespaceHasPauseInside) {
  UsernsEnv env;
  auto pod_cfg = userns_pod("userns-pid", 1000000);
  pod_cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  const std::string pod = env.run_pod(pod_cfg);
  const int pause = pod_info(env.daemon, pod).value("pausePid", 0);
  ASSERT_GT(pause, 0);
  EXPECT_EQ(proc_status_field(pause, "Uid").substr(0, 7), "1000000");
  EXPECT_EQ(ns_ino(ns_of(pause, "user")), ns_ino(user_pin(env.daemon, pod)));
  const std::string id = env.create(pod, userns_container("app", env.image, {"sleep", "3600"}, pod_cfg));
  EXPECT_EQ(exec_sync(env.daemon, id, {"cat", "/proc/1/comm"}).out, "crius-pause\n");
  EXPECT_EQ(squash(exec_sync(env.daemon, id, {"cat", "/proc/self/uid_map"}).out), "0 1000000 65536");
}

TEST(UserNamespace, RefusalsNameTheFieldAndMakeNothing) {
  UsernsEnv env;
  struct Case {
    const char* what;
    std::function<void(v1::UserNamespace&)> edit;
    grpc::StatusCode code;
    const char* needle;
  };
  auto entry = [](auto* m, uint32_t host, uint32_t ctr, uint32_t len) {
    m->set_host_id(host);
    m->set_container_id(ctr);
    m->set_length(len);
  };
  const std::vector<Case> cases = {
      {"CONTAINER", [](auto& u) { u.set_mode(v1::CONTAINER); }, grpc::INVALID_ARGUMENT, "userns_options.mode CONTAINER"},
      {"TARGET", [](auto& u) { u.set_mode(v1::TARGET); }, grpc::INVALID_ARGUMENT, "userns_options.mode TARGET"},
      {"two uid ranges", [&](auto& u) { entry(u.add_uids(), 2000000, 65536, 65536); }, grpc::INVALID_ARGUMENT,
       "userns_options.uids: 2 mappings"},
      {"two gid ranges", [&](auto& u) { entry(u.add_gids(), 2000000, 65536, 65536); }, grpc::INVALID_ARGUMENT,
       "userns_options.gids: 2 mappings"},
      {"zero length", [](auto& u) { u.mutable_uids(0)->set_length(0); }, grpc::INVALID_ARGUMENT,
       "userns_options.uids[0].length"},
      {"overlap", [&](auto& u) { entry(u.add_gids(), 1000100, 65536, 10); }, grpc::INVALID_ARGUMENT,
       "userns_options.gids[1].host_id"},
      {"container ID 0 not mapped", [](auto& u) { u.mutable_gids(0)->set_container_id(1); }, grpc::INVALID_ARGUMENT,
       "userns_options.gids[0].container_id"},
      {"host ID 0", [](auto& u) { u.mutable_uids(0)->set_host_id(0); }, grpc::INVALID_ARGUMENT,
       "userns_options.uids[0].host_id"},
      {"no ranges", [](auto& u) { u.clear_uids(); }, grpc::INVALID_ARGUMENT, "userns_options.uids"},
  };
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  for (const auto& k : cases) {
    auto c = userns_pod("bad", 1000000);
    k.edit(*c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->mutable_userns_options());
    c.set_log_directory(env.daemon.dir() / "logs/bad");
    auto s = run_pod(env.daemon, c, nullptr);
    EXPECT_EQ(s.error_code(), k.code) << k.what << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(k.needle), std::string::npos) << k.what << ": " << s.error_message();
  }
  // Host namespaces do not go with a user namespace of the pod's.
  auto host_net = userns_pod("bad", 1000000);
  set_host_network(host_net);
  auto s = run_pod(env.daemon, host_net, nullptr);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("namespace_options.network is NODE"), std::string::npos) << s.error_message();
  // A handler whose runtime cannot (runc 1.1 reports no idmapped mounts).
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = userns_pod("bad", 1000000);
  req.set_runtime_handler("runc");
  v1::RunPodSandboxResponse res;
  s = env.daemon.runtime()->RunPodSandbox(deadline_ctx().get(), req, &res);
  EXPECT_EQ(s.error_code(), grpc::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("\"runc\""), std::string::npos) << s.error_message();

  v1::ListPodSandboxResponse list;
  ASSERT_TRUE(env.daemon.runtime()->ListPodSandbox(deadline_ctx().get(), {}, &list).ok());
  EXPECT_EQ(list.items_size(), 0);
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_EQ(before, after) << describe_difference(before, after);
  EXPECT_TRUE(processes_of_range(1000000).empty());
}

TEST(UserNamespace, HandlersReportIt) {
  UsernsEnv env;
  v1::StatusRequest req;
  v1::StatusResponse res;
  ASSERT_TRUE(env.daemon.runtime()->Status(deadline_ctx().get(), req, &res).ok());
  std::map<std::string, bool> userns;
  for (const auto& h : res.runtime_handlers()) userns[h.name()] = h.features().user_namespaces();
  EXPECT_TRUE(userns.at("crius"));
  EXPECT_TRUE(userns.at(""));
  // runc 1.1 and crun 1.8 report no idmapped mounts in `features`.
  EXPECT_FALSE(userns.at("runc"));
  EXPECT_FALSE(userns.at("crun"));
}

TEST(UserNamespace, RestartKeepsThePodsNamespaceAndMaps) {
  UsernsEnv env;
  const auto pod_cfg = userns_pod("userns-restart", 1000000);
  const std::string pod = env.run_pod(pod_cfg);
  const std::string first = env.create(pod, userns_container("first", env.image, {"sleep", "3600"}, pod_cfg));
  const ino_t ns_before = ns_ino(ns_of(pid_of(env.daemon, first), "user"));
  ASSERT_NE(ns_before, 0u);

  env.daemon.restart();
  EXPECT_EQ(pod_status(env.daemon, pod).status().state(), v1::SANDBOX_READY);
  const std::string second = env.create(pod, userns_container("second", env.image, {"sleep", "3600"}, pod_cfg));
  const int pid = pid_of(env.daemon, second);
  EXPECT_EQ(ns_ino(ns_of(pid, "user")), ns_before);
  EXPECT_EQ(squash(exec_sync(env.daemon, second, {"cat", "/proc/self/uid_map"}).out), "0 1000000 65536");
  EXPECT_EQ(exec_sync(env.daemon, first, {"id", "-u"}).out, "0\n");
}

TEST(UserNamespace, TwentyPodsLeaveNothingBehind) {
  UsernsEnv env;
  const std::string marker = env.net.bridge;
  auto cycle = [&](int i) {
    const uint32_t base = 1000000 + static_cast<uint32_t>(i) * kRange;
    auto cfg = userns_pod("userns-" + std::to_string(i), base);
    if (i % 2) cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
    const std::string pod = env.run_pod(cfg);
    env.create(pod, userns_container("app", env.image, {"sleep", "3600"}, cfg));
    ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
    ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
    env.pods.erase(pod);
  };
  // A first pod makes the directories that stay (runtime state roots, layer links).
  cycle(20);
  std::error_code ec;
  fs::remove_all(env.daemon.dir() / "logs", ec);
  const auto before = snapshot(env.daemon.dir().path(), marker, env.net.bridge);
  for (int i = 0; i < 20; ++i) cycle(i);
  // Logs are kubelet's to remove; everything else must be gone: mounts
  // (idmapped layers, pins), files, cgroups, processes of the pods' ranges.
  fs::remove_all(env.daemon.dir() / "logs", ec);
  const auto after = snapshot(env.daemon.dir().path(), marker, env.net.bridge);
  EXPECT_EQ(before, after) << describe_difference(before, after);
  for (int i = 0; i <= 20; ++i)
    EXPECT_TRUE(processes_of_range(1000000 + static_cast<uint32_t>(i) * kRange).empty()) << i;
}

}  // namespace
}  // namespace crius::test
