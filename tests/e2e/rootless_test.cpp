// Rootless (issue 21): crius run by an unprivileged user made for the test,
// and crius run as root inside a user namespace made by the test. Each runs a
// pod with a host port from pull to removal (the latter also one on the
// host's PID, IPC and network namespaces), and afterwards the host is
// checked: no process of the daemon's namespaces is left, and (as the user)
// nothing new on the host is owned by root or by the user outside its own
// directories.
//
// This machine has no udev, so /dev/net/tun is 0600; the tests make it 0666,
// the mode Debian's udev rules give it, for the time they run (slirp4netns
// opens it as the user).
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/random_id.h"
#include "tests/e2e/image_helpers.h"
#include "tests/fixtures/registry/registry.h"
#include "tests/fixtures/rootless/host_user.h"
#include "tests/support/eventually.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crius::testing::eventually;

bool have(const char* program) {
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"})
    if (::access((std::string(dir) + program).c_str(), X_OK) == 0) return true;
  return false;
}

// Output of a shell command (stdout), as root.
std::string sh_out(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

using fixtures::kernel_allows_rootless;
using fixtures::TunOpen;

// A user made for the test, removed with its home and runtime dir afterwards.
struct TestUser : fixtures::HostUser {
  TestUser() : fixtures::HostUser("crius-rl-" + random_hex(3)) {}
  DaemonOptions::User as_option() const { return {uid, gid, home, runtime_dir}; }
};

// A bridge network with portmap, and host-local without a dataDir: a rootless
// daemon keeps the allocations under its root itself.
std::string rootless_conflist() {
  return R"({"cniVersion": "1.0.0", "name": "crius-rootless-test", "plugins": [
    {"type": "bridge", "bridge": "crl0", "isGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}]})";
}

std::string registry_config(const std::string& image) {
  const std::string host = image.substr(0, image.find('/'));
  return "log_level: debug\nimage:\n  registries: [{prefix: \"" + host + "\", insecure: true}]\n";
}

// The uid a process runs as, from /proc; -1 when it is gone.
long uid_of(int pid) {
  const std::string uids = proc_status_field(pid, "Uid");
  return uids.empty() ? -1 : std::stol(uids);
}

// Every pid whose real uid `keep` accepts.
std::vector<int> processes_where(const std::function<bool(uid_t)>& keep) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    const long u = uid_of(std::stoi(n));
    if (u >= 0 && keep(static_cast<uid_t>(u))) out.push_back(std::stoi(n));
  }
  return out;
}

// Pids in the user namespace `userns` (its /proc/<pid>/ns/user link text).
std::vector<int> processes_in_userns(const std::string& userns) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    if (fs::read_symlink(e.path() / "ns/user", ec).string() == userns) out.push_back(std::stoi(n));
  }
  return out;
}

// One request to slirp4netns's API socket; its answer.
nlohmann::json slirp_call(const std::string& socket_path, const nlohmann::json& request) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  std::string in;
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string out = request.dump();
    if (::write(s, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
      ::shutdown(s, SHUT_WR);
      char buf[4096];
      for (ssize_t n; (n = ::read(s, buf, sizeof buf)) > 0;) in.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(s);
  return nlohmann::json::parse(in, nullptr, false);
}

// The host ports slirp4netns forwards now.
std::set<int> forwarded_ports(const std::string& socket_path) {
  std::set<int> out;
  const auto answer = slirp_call(socket_path, {{"execute", "list_hostfwd"}});
  if (answer.is_object())
    for (const auto& e : answer.value("entries", nlohmann::json::array())) out.insert(e.value("host_port", 0));
  return out;
}

// A pod with host port `host_port` -> 8080, busybox httpd serving /etc on
// 8080, as kubelet would send them.
struct WebPod {
  std::string pod, web;
  v1::PodSandboxConfig config;
};

WebPod run_web_pod(Daemon& d, const std::string& image, int host_port, const std::string& log_dir) {
  WebPod w;
  w.config = pod_config("rl-web");
  w.config.set_log_directory(log_dir);
  auto* pm = w.config.add_port_mappings();
  pm->set_protocol(v1::TCP);
  pm->set_container_port(8080);
  pm->set_host_port(host_port);
  auto s = run_pod(d, w.config, &w.pod);
  if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message());
  s = create_container(d, w.pod, container_config("web", image, {"busybox", "httpd", "-f", "-p", "8080", "-h", "/etc"}),
                       w.config, &w.web);
  if (!s.ok()) throw std::runtime_error("CreateContainer: " + s.error_message());
  s = start_container(d, w.web);
  if (!s.ok()) throw std::runtime_error("StartContainer: " + s.error_message());
  return w;
}

// Removes every pod the daemon still has when the test ends, so that a test
// that fails halfway leaves no monitor, container or slirp4netns behind.
struct RemovePodsAtEnd {
  Daemon& d;
  ~RemovePodsAtEnd() {
    if (!d.running()) return;
    v1::ListPodSandboxResponse res;
    if (d.runtime()->ListPodSandbox(deadline_ctx().get(), v1::ListPodSandboxRequest(), &res).ok())
      for (const auto& p : res.items()) remove_pod(d, p.id());
    d.stop(SIGTERM);
  }
};

v1::RuntimeCondition condition(Daemon& d, const std::string& type) {
  v1::StatusResponse res;
  EXPECT_TRUE(d.runtime()->Status(deadline_ctx().get(), v1::StatusRequest(), &res).ok());
  for (const auto& c : res.status().conditions())
    if (c.type() == type) return c;
  return {};
}

TEST(Rootless, AUserRunsAPodWithAHostPortAndLeavesNothingOwnedByRoot) {
  if (const auto missing = fixtures::rootless_tools_missing(); !missing.empty())
    GTEST_SKIP() << "needs Debian's uidmap and slirp4netns: no " << missing;
  if (!kernel_allows_rootless()) GTEST_SKIP() << "needs user namespaces for users and /dev/net/tun";
  const std::string image = busybox_image();  // its registry is made before the marker
  TunOpen tun;
  TestUser user;
  const std::string marker = user.home + "/.test-start";
  std::ofstream(marker) << "";
  std::this_thread::sleep_for(20ms);  // a later mtime for everything that follows

  // The user's own places, with nothing of root's in the environment.
  const std::string config_out = sh_out("setpriv --reuid=" + std::to_string(user.uid) + " --regid=" +
                                        std::to_string(user.gid) + " --clear-groups env -i HOME=" + user.home +
                                        " XDG_RUNTIME_DIR=" + user.runtime_dir + " " + CRIUS_BINARY + " config");
  EXPECT_NE(config_out.find("root: " + user.home + "/.local/share/crius\n"), std::string::npos) << config_out;
  EXPECT_NE(config_out.find("state: " + user.runtime_dir + "/crius\n"), std::string::npos) << config_out;
  EXPECT_NE(config_out.find("listen: " + user.runtime_dir + "/crius/crius.sock\n"), std::string::npos) << config_out;

  DaemonOptions options;
  options.config_yaml = registry_config(image);
  options.extra_args = {"--network-cni-plugin-dirs", "/usr/lib/cni"};
  options.user = user.as_option();
  std::string daemon_dir;
  {
    Daemon d(options);
    RemovePodsAtEnd cleanup{d};
    daemon_dir = d.dir().path();
    write_file(d.dir() / "cni/10-rootless.conflist", rootless_conflist());
    EXPECT_TRUE(d.wait_for_log("running rootless in a user namespace of our own")) << d.log();
    ASSERT_TRUE(eventually([&] { return condition(d, "NetworkReady").status(); })) << condition(d, "NetworkReady").message();
    const auto limits = condition(d, "ResourceLimitsEnforced");
    EXPECT_FALSE(limits.status());
    EXPECT_EQ(limits.reason(), "NoCgroupDelegation");

    ASSERT_TRUE(image_e2e::pull(d, image).status.ok()) << d.log();
    // Layer files keep their owners, mapped into the user's subordinate range.
    const std::string root = user.home + "/.local/share/crius";
    bool found = false;
    for (const auto& l : fs::directory_iterator(root + "/images/layers")) {
      struct stat st;
      if (::stat((l.path() / "diff/home/app").c_str(), &st) != 0) continue;
      found = true;
      EXPECT_EQ(st.st_uid, user.sub_start + 999);
    }
    EXPECT_TRUE(found);

    const int host_port = fixtures::free_loopback_port();
    const std::string log_dir = user.home + "/logs/rl-web";
    WebPod w = run_web_pod(d, image, host_port, log_dir);
    auto app_cfg = container_config("app", image, {"sleep", "3600"});
    app_cfg.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(1000);
    std::string app;
    ASSERT_TRUE(create_container(d, w.pod, app_cfg, w.config, &app).ok());
    ASSERT_TRUE(start_container(d, app).ok());

    // A restart joins the namespaces the pods live in (their holder's), and
    // drops a forward no pod owns (as a crash after add_hostfwd leaves).
    const std::string api = user.runtime_dir + "/crius/rootless/slirp4netns.sock";
    const int stray = fixtures::free_loopback_port();
    slirp_call(api, {{"execute", "add_hostfwd"},
                     {"arguments", {{"proto", "tcp"}, {"host_port", stray}, {"guest_port", stray}}}});
    EXPECT_EQ(forwarded_ports(api), (std::set<int>{host_port, stray}));
    d.restart();
    EXPECT_EQ(forwarded_ports(api), std::set<int>{host_port});
    EXPECT_NE(d.log().find("running rootless in the namespaces of the earlier daemon"), std::string::npos) << d.log();
    EXPECT_NE(d.log().find("pods' network found from an earlier run"), std::string::npos) << d.log();

    // Root inside is the user outside; any other ID is a subordinate one.
    EXPECT_EQ(exec_sync(d, w.web, {"id", "-u"}).out, "0\n");
    EXPECT_EQ(uid_of(container_info(d, w.web)["pid"].get<int>()), static_cast<long>(user.uid));
    EXPECT_EQ(exec_sync(d, app, {"id", "-u"}).out, "1000\n");
    EXPECT_EQ(uid_of(container_info(d, app)["pid"].get<int>()), static_cast<long>(user.sub_start + 999));

    // No cgroup to read: CPU and memory come from the container's processes.
    v1::ContainerStatsRequest stats_req;
    stats_req.set_container_id(app);
    v1::ContainerStatsResponse stats;
    ASSERT_TRUE(d.runtime()->ContainerStats(deadline_ctx(10).get(), stats_req, &stats).ok());
    EXPECT_TRUE(stats.stats().has_cpu() && stats.stats().cpu().has_usage_core_nano_seconds()) << stats.DebugString();
    EXPECT_GT(stats.stats().memory().working_set_bytes().value(), 0u) << stats.DebugString();

    // The host port answers on the host's loopback, through slirp4netns.
    std::string body;
    EXPECT_TRUE(eventually([&] {
      body = http_get("127.0.0.1:" + std::to_string(host_port), "/hostname");
      return !body.empty();
    }));
    EXPECT_TRUE(body.ends_with("\r\n\r\nrl-web\n")) << body;
    struct stat st;
    ASSERT_EQ(::stat((log_dir + "/web/0.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, user.uid);

    ASSERT_TRUE(stop_pod(d, w.pod).ok());
    ASSERT_TRUE(remove_pod(d, w.pod).ok());
    EXPECT_EQ(forwarded_ports(api), std::set<int>{});

    // runc, which finds the user namespace itself, runs and stops one too
    // (it has no cgroup to kill "all" through).
    if (have("runc")) {
      v1::RunPodSandboxRequest req;
      *req.mutable_config() = pod_config("rl-runc");
      req.mutable_config()->set_log_directory(user.home + "/logs/rl-runc");
      req.set_runtime_handler("runc");
      v1::RunPodSandboxResponse res;
      ASSERT_TRUE(d.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res).ok());
      const v1::PodSandboxConfig& rc = req.config();
      const std::string pod = res.pod_sandbox_id();
      std::string ctr;
      ASSERT_TRUE(create_container(d, pod, container_config("sleeper", image, {"sleep", "3600"}), rc, &ctr).ok());
      ASSERT_TRUE(start_container(d, ctr).ok());
      EXPECT_EQ(exec_sync(d, ctr, {"id", "-u"}).out, "0\n");
      const auto stopped = stop_pod(d, pod);
      EXPECT_TRUE(stopped.ok()) << stopped.error_message();
      ASSERT_TRUE(remove_pod(d, pod).ok());
    }
    ASSERT_TRUE(image_e2e::remove(d, image).ok());
    EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
    EXPECT_NE(d.log().find("pods' network stopped"), std::string::npos) << d.log();
  }

  // No process of the user's or of its range is left (slirp4netns, the
  // namespace holder, monitors and containers all went).
  std::vector<int> left;
  EXPECT_TRUE(eventually([&] {
    left = processes_where([&](uid_t u) { return user.owns(u); });
    return left.empty();
  })) << "processes left: " << left.size() << " first " << (left.empty() ? 0 : left[0]);

  // Nothing new is owned by root where a crius writes by default or where
  // the user's own may write, and nothing of the user's is outside its home
  // and runtime dir. (Not all of /: other programs on the machine write
  // there too.)
  const std::string places =
      "/etc/crius /etc/cni /var/lib/crius /var/lib/cni /var/log/pods /var/log/containers /run/crius /run/netns "
      "/run/user /tmp /var/tmp /home";
  const std::string found = sh_out(
      "find " + places + " -xdev -mindepth 1 -newer " + marker + " \\( -user root -o -uid " +
      std::to_string(user.uid) + " -o \\( -uid +" + std::to_string(user.sub_start - 1) + " -uid -" +
      std::to_string(user.sub_start + user.sub_count) + " \\) \\) 2>/dev/null | while read -r f; do "
      "case \"$f\" in " + daemon_dir + "|" + daemon_dir + "/*) ;; "
      "/tmp/*) u=$(stat -c %u \"$f\" 2>/dev/null) && [ \"$u\" != 0 ] && echo \"$f\";; "
      + user.home + "|" + user.home + "/*|" + user.runtime_dir + "|" + user.runtime_dir + "/*) "
      "[ \"$(stat -c %u \"$f\")\" = 0 ] && echo \"$f\";; "
      "*) echo \"$f\";; esac; done");
  EXPECT_EQ(found, "");
}

// A daemon run as root inside a user namespace made for it, where only root
// is mapped, and whose network namespace is the host's, which it does not
// own: its pods get theirs behind slirp4netns.
DaemonOptions root_in_userns_options(const std::string& image) {
  DaemonOptions options;
  options.config_yaml = registry_config(image);
  options.extra_args = {"--network-cni-plugin-dirs", "/usr/lib/cni"};
  options.wrapper = {"unshare", "--user", "--map-root-user", "--mount", "--"};
  return options;
}

TEST(Rootless, RootInsideAUserNamespaceRunsAPodWithAHostPort) {
  if (!have("slirp4netns")) GTEST_SKIP() << "needs Debian's slirp4netns";
  if (!kernel_allows_rootless()) GTEST_SKIP() << "needs user namespaces for users and /dev/net/tun";
  const std::string image = busybox_image();
  TunOpen tun;
  Daemon d(root_in_userns_options(image));
  RemovePodsAtEnd cleanup{d};
  write_file(d.dir() / "cni/10-rootless.conflist", rootless_conflist());
  std::error_code ec;
  const std::string userns = fs::read_symlink("/proc/" + std::to_string(d.pid()) + "/ns/user", ec).string();
  ASSERT_NE(userns, fs::read_symlink("/proc/self/ns/user", ec).string());
  ASSERT_TRUE(eventually([&] { return condition(d, "NetworkReady").status(); })) << condition(d, "NetworkReady").message();

  ASSERT_TRUE(image_e2e::pull(d, image).status.ok()) << d.log();
  // /home/app is uid 1000's in the image, which this namespace cannot map.
  EXPECT_NE(d.log().find("layer unpacked with less than it holds"), std::string::npos) << d.log();

  const int host_port = fixtures::free_loopback_port();
  WebPod w = run_web_pod(d, image, host_port, d.dir() / "logs/rl-web");
  const ExecOutput id = exec_sync(d, w.web, {"id", "-u"});
  EXPECT_EQ(id.out, "0\n") << id.status.error_message() << id.err << read_file(d.dir() / "logs/rl-web/web/0.log")
                            << sh_out("cat " + d.dir().path() + "/state/sandboxes/*/monitor/monitor.log");
  std::string body;
  EXPECT_TRUE(eventually([&] {
    body = http_get("127.0.0.1:" + std::to_string(host_port), "/hostname");
    return !body.empty();
  }));
  EXPECT_TRUE(body.ends_with("\r\n\r\nrl-web\n")) << body;

  const std::string api = d.dir() / "state/rootless/slirp4netns.sock";
  EXPECT_EQ(forwarded_ports(api), std::set<int>{host_port});
  ASSERT_TRUE(stop_pod(d, w.pod).ok());
  ASSERT_TRUE(remove_pod(d, w.pod).ok());
  // The port is no longer forwarded once the pod is gone.
  EXPECT_EQ(forwarded_ports(api), std::set<int>{});
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
  std::vector<int> left;
  EXPECT_TRUE(eventually([&] {
    left = processes_in_userns(userns);
    return left.empty();
  })) << left.size() << " processes left in the daemon's user namespace";
}

// A pod on the node's PID, IPC and network namespaces (node agents such as
// kube-proxy or node-exporter), from a daemon that is root only inside a
// user namespace that owns none of them: proc, mqueue and sysfs cannot be
// mounted fresh there, so the container gets the daemon's own, bound. It
// sees the host's processes (this test's among them).
TEST(Rootless, RootInsideAUserNamespaceRunsAPodOnTheHostsPidIpcAndNetwork) {
  if (!have("slirp4netns")) GTEST_SKIP() << "needs Debian's slirp4netns";
  if (!kernel_allows_rootless()) GTEST_SKIP() << "needs user namespaces for users and /dev/net/tun";
  const std::string image = busybox_image();
  TunOpen tun;
  Daemon d(root_in_userns_options(image));
  RemovePodsAtEnd cleanup{d};
  ASSERT_TRUE(image_e2e::pull(d, image).status.ok()) << d.log();

  auto pc = pod_config("rl-host");
  pc.set_log_directory(d.dir() / "logs/rl-host");
  auto* ns = pc.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::NODE);
  ns->set_pid(v1::NODE);
  ns->set_ipc(v1::NODE);
  std::string pod, ctr;
  ASSERT_TRUE(run_pod(d, pc, &pod).ok());
  auto cc = container_config("agent", image, {"sleep", "3600"});
  *cc.mutable_linux()->mutable_security_context()->mutable_namespace_options() = *ns;
  const auto created = create_container(d, pod, cc, pc, &ctr);
  ASSERT_TRUE(created.ok()) << created.error_message();
  ASSERT_TRUE(start_container(d, ctr).ok());

  const std::string me = std::to_string(::getpid());
  const ExecOutput comm = exec_sync(d, ctr, {"cat", "/proc/" + me + "/comm"});
  EXPECT_EQ(comm.out, read_file("/proc/" + me + "/comm")) << comm.status.error_message() << comm.err;
  // /dev/mqueue is the host's when it has one; this machine's has none.
  struct stat st;
  const bool host_mqueue = ::stat("/dev/mqueue", &st) == 0 && read_file("/proc/self/mountinfo").find(" /dev/mqueue ") !=
                                                                  std::string::npos;
  const ExecOutput mq = exec_sync(d, ctr, {"sh", "-c", "grep -c ' /dev/mqueue ' /proc/self/mountinfo || true"});
  EXPECT_EQ(mq.out, host_mqueue ? "1\n" : "0\n") << mq.err;
  const ExecOutput net = exec_sync(d, ctr, {"ls", "/sys/class/net"});
  EXPECT_NE(net.out.find("lo"), std::string::npos) << net.err;

  ASSERT_TRUE(stop_pod(d, pod).ok());
  ASSERT_TRUE(remove_pod(d, pod).ok());
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
}

}  // namespace
}  // namespace crius::test
