// Pod sandboxes as kubelet drives them: RunPodSandbox with Debian's CNI
// plugins on a private bridge, the pod's namespaces entered by the test,
// faults (failing and hanging plugins), restart, and no residue.
// sandbox_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/sandbox_helpers.h"
#include "tests/support/eventually.h"
//
#include <arpa/inet.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace crius::test {
namespace {

namespace fs = std::filesystem;

// A daemon with a private bridge network and the test plugins on its path.
struct PodEnv {
  explicit PodEnv(std::map<std::string, std::string> env = {}, std::vector<std::string> args = {})
      : daemon(DaemonOptions{.extra_args = merge(args), .env = std::move(env)}) {}
  std::vector<std::string> merge(std::vector<std::string> args) {
    args.insert(args.begin(), {"--network-cni-plugin-dirs", plugins.dir.path() + ",/usr/lib/cni"});
    return args;
  }
  void use(const std::string& conflist) { write_file(daemon.dir() / "cni/10-test.conflist", conflist); }

  TestNetwork net;
  TestPlugins plugins;
  Daemon daemon;
};

std::string netns_of(Daemon& d, const std::string& id, const char* kind = "net") {
  return pod_info(d, id)["namespaces"].value(kind, "");
}

bool lo_is_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  ::close(fd);
  return up;
}

std::string eth0_ipv4() {
  ifaddrs* ifs = nullptr;
  std::string ip;
  if (::getifaddrs(&ifs) != 0) return "";
  for (auto* i = ifs; i; i = i->ifa_next) {
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && std::string(i->ifa_name) == "eth0") {
      char buf[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      ip = buf;
    }
  }
  ::freeifaddrs(ifs);
  return ip;
}

std::string read_in(const std::string& path) {
  std::string s = read_file(path);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// A listening TCP socket made inside the namespace at `netns` (sockets stay
// in the namespace they were created in).
int listen_in(const std::string& netns, int* port) {
  int fd = -1;
  in_namespace(netns, CLONE_NEWNET, [&] {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(*port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0)
      throw std::runtime_error("listen in pod failed");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    *port = ntohs(a.sin_port);
  });
  return fd;
}

// Connects (bounded) and reads what the other side writes; "" on failure.
std::string connect_and_read(const std::string& ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  std::string got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[64];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
    }
  }
  ::close(fd);
  return got;
}

// Accepts one connection (bounded) and writes `text` to it.
std::future<bool> serve_once(int listen_fd, const std::string& text) {
  return std::async(std::launch::async, [listen_fd, text] {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return false;
    bool ok = ::write(c, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(c);
    return ok;
  });
}

TEST(PodSandbox, GetsAnIpInTheSubnetAndLoopbackIsUp) {
  PodEnv env;
  env.use(env.net.conflist());
  auto c = pod_config("web");
  std::string id;
  auto s = run_pod(env.daemon, c, &id);
  ASSERT_TRUE(s.ok()) << s.error_message() << env.daemon.log();
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);

  auto st = pod_status(env.daemon, id);
  EXPECT_EQ(st.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(st.status().metadata().name(), "web");
  EXPECT_EQ(st.status().labels().at("app"), "web");
  EXPECT_EQ(st.status().annotations().at("note"), "made by the crius e2e tests");
  EXPECT_EQ(st.status().runtime_handler(), "crius");
  EXPECT_GT(st.status().created_at(), 0);
  EXPECT_EQ(st.status().linux().namespaces().options().network(), v1::POD);
  const std::string ip = st.status().network().ip();
  EXPECT_EQ(ip.rfind(env.net.subnet_prefix, 0), 0u) << ip;

  const std::string netns = netns_of(env.daemon, id);
  ASSERT_FALSE(netns.empty());
  std::string inside_ip;
  bool up = false;
  in_namespace(netns, CLONE_NEWNET, [&] {
    up = lo_is_up();
    inside_ip = eth0_ipv4();
  });
  EXPECT_TRUE(up);
  EXPECT_EQ(inside_ip, ip);

  ASSERT_TRUE(stop_pod(env.daemon, id).ok());
  EXPECT_EQ(pod_status(env.daemon, id).status().state(), v1::SANDBOX_NOTREADY);
  EXPECT_TRUE(stop_pod(env.daemon, id).ok()) << "stop is idempotent";
  ASSERT_TRUE(remove_pod(env.daemon, id).ok());
  EXPECT_TRUE(remove_pod(env.daemon, id).ok()) << "remove is idempotent";
  EXPECT_FALSE(fs::exists(netns));
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  v1::PodSandboxStatusResponse res;
  EXPECT_EQ(env.daemon.runtime()->PodSandboxStatus(deadline_ctx().get(), req, &res).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(PodSandbox, TwoPodsReachEachOtherOverTcp) {
  PodEnv env;
  env.use(env.net.conflist());
  std::string a, b;
  ASSERT_TRUE(run_pod(env.daemon, pod_config("server"), &a).ok()) << env.daemon.log();
  ASSERT_TRUE(run_pod(env.daemon, pod_config("client"), &b).ok()) << env.daemon.log();
  const std::string a_ip = pod_status(env.daemon, a).status().network().ip();
  int port = 0;
  int lfd = listen_in(netns_of(env.daemon, a), &port);
  auto served = serve_once(lfd, "hello from server");
  std::string got;
  in_namespace(netns_of(env.daemon, b), CLONE_NEWNET, [&] { got = connect_and_read(a_ip, port); });
  EXPECT_EQ(got, "hello from server");
  EXPECT_TRUE(served.get());
  ::close(lfd);
  EXPECT_TRUE(remove_pod(env.daemon, a).ok());
  EXPECT_TRUE(remove_pod(env.daemon, b).ok());
}

TEST(PodSandbox, HostPortReachesThePod) {
  PodEnv env;
  env.use(env.net.conflist());
  auto c = pod_config("ported");
  const int host_port = free_tcp_port();
  auto* pm = c.add_port_mappings();
  pm->set_protocol(v1::TCP);
  pm->set_container_port(8080);
  pm->set_host_port(host_port);
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, c, &id).ok()) << env.daemon.log();
  int port = 8080;
  int lfd = listen_in(netns_of(env.daemon, id), &port);
  auto served = serve_once(lfd, "through the host port");
  // Traffic from the node to one of its own addresses goes through portmap's DNAT.
  EXPECT_EQ(connect_and_read(env.net.gateway(), host_port), "through the host port");
  EXPECT_TRUE(served.get());
  ::close(lfd);
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

TEST(PodSandbox, HostNetworkPodGetsNoCniCallAndTheNodeHostname) {
  PodEnv env;
  env.use(R"({"cniVersion":"1.0.0","name":"recorded","plugins":[{"type":"crius-record"}]})");
  auto c = pod_config("hostnet");
  set_host_network(c);
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, c, &id).ok()) << env.daemon.log();
  auto info = pod_info(env.daemon, id);
  EXPECT_FALSE(info["namespaces"].contains("net"));
  EXPECT_FALSE(info["namespaces"].contains("uts"));
  EXPECT_TRUE(pod_status(env.daemon, id).status().network().ip().empty());
  utsname u{};
  ::uname(&u);
  EXPECT_EQ(read_in(info["hostnamePath"]), u.nodename);
  EXPECT_EQ(pod_status(env.daemon, id).status().linux().namespaces().options().network(), v1::NODE);
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
  EXPECT_EQ(env.plugins.calls(), "") << "no CNI call for a host-network pod";

  // The same config does get called for a pod network, with the Kubernetes CNI_ARGS.
  auto p = pod_config("podnet");
  ASSERT_TRUE(run_pod(env.daemon, p, &id).ok()) << env.daemon.log();
  EXPECT_NE(env.plugins.calls().find("ADD " + id + " IgnoreUnknown=1;K8S_POD_NAMESPACE=crius-test;K8S_POD_NAME=podnet;"
                                     "K8S_POD_INFRA_CONTAINER_ID=" + id + ";K8S_POD_UID=" + p.metadata().uid()),
            std::string::npos)
      << env.plugins.calls();
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
  EXPECT_NE(env.plugins.calls().find("DEL " + id), std::string::npos) << env.plugins.calls();
}

TEST(PodSandbox, SysctlsAndHostnameAreVisibleInside) {
  PodEnv env;
  env.use(env.net.conflist());
  auto c = pod_config("tuned");
  c.set_hostname("tuned-0");
  (*c.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "77";
  (*c.mutable_linux()->mutable_sysctls())["kernel.shmmni"] = "1234";
  (*c.mutable_linux()->mutable_sysctls())["net/ipv4/ping_group_range"] = "0 2147483647";
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, c, &id).ok()) << env.daemon.log();
  auto info = pod_info(env.daemon, id);
  std::string port_start, ping, shmmni, hostname;
  in_namespace(info["namespaces"]["net"], CLONE_NEWNET, [&] {
    port_start = read_in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    ping = read_in("/proc/sys/net/ipv4/ping_group_range");
  });
  in_namespace(info["namespaces"]["ipc"], CLONE_NEWIPC, [&] { shmmni = read_in("/proc/sys/kernel/shmmni"); });
  in_namespace(info["namespaces"]["uts"], CLONE_NEWUTS, [&] {
    utsname u{};
    ::uname(&u);
    hostname = u.nodename;
  });
  EXPECT_EQ(port_start, "77");
  EXPECT_EQ(ping, "0\t2147483647");
  EXPECT_EQ(shmmni, "1234");
  EXPECT_EQ(hostname, "tuned-0");
  EXPECT_EQ(read_in(info["hostnamePath"]), "tuned-0");
  EXPECT_NE(read_in("/proc/sys/kernel/shmmni"), "1234") << "the node's own value is untouched";
  // The pod's /dev/shm is a tmpfs of its own.
  EXPECT_NE(read_file("/proc/self/mountinfo").find(info["shmPath"].get<std::string>() + " "), std::string::npos);
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

std::string proc_status_field(pid_t pid, const std::string& field) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  return "";
}

// A pod on the test network with a shared PID namespace (crius-pause as PID 1).
std::string run_shared_pid_pod(PodEnv& env, const std::string& name) {
  env.use(env.net.conflist());
  auto c = pod_config(name);
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
  std::string id;
  auto s = run_pod(env.daemon, c, &id);
  if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message() + "\n" + env.daemon.log());
  return id;
}

TEST(PodSandbox, SharedPidNamespaceHasCriusPauseAsPid1ThatReapsOrphans) {
  PodEnv env;
  const std::string id = run_shared_pid_pod(env, "shared");
  EXPECT_EQ(pod_status(env.daemon, id).status().linux().namespaces().options().pid(), v1::POD);
  auto info = pod_info(env.daemon, id);
  const pid_t pause = info["pausePid"].get<int>();
  ASSERT_GT(pause, 0);
  EXPECT_EQ(read_in("/proc/" + std::to_string(pause) + "/comm"), "crius-pause");
  // NSpid lists its PID in each namespace, innermost last: 1.
  const std::string nspid = proc_status_field(pause, "NSpid");
  EXPECT_EQ(nspid.substr(nspid.find_last_of("\t ") + 1), "1") << nspid;
  // It lives in the pod's network namespace and the pinned PID namespace.
  struct stat pin {}, its {};
  ASSERT_EQ(::stat(info["namespaces"]["net"].get<std::string>().c_str(), &pin), 0);
  ASSERT_EQ(::stat(("/proc/" + std::to_string(pause) + "/ns/net").c_str(), &its), 0);
  EXPECT_EQ(pin.st_ino, its.st_ino);
  ASSERT_EQ(::stat(info["namespaces"]["pid"].get<std::string>().c_str(), &pin), 0);
  ASSERT_EQ(::stat(("/proc/" + std::to_string(pause) + "/ns/pid").c_str(), &its), 0);
  EXPECT_EQ(pin.st_ino, its.st_ino);

  // An orphan in the pod's PID namespace: a child joins it (for its
  // children), forks a process there, which forks the orphan-to-be and
  // exits. The kernel re-parents the orphan to the namespace's PID 1.
  const std::string pid_pin = info["namespaces"]["pid"];
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open(pid_pin.c_str(), O_RDONLY);
    if (fd < 0 || ::setns(fd, CLONE_NEWPID) != 0) ::_exit(1);
    pid_t g = ::fork();
    if (g == 0) {
      if (::fork() == 0) {
        timespec ts{1, 0};
        ::nanosleep(&ts, nullptr);
        ::_exit(0);
      }
      ::_exit(0);
    }
    int st = 0;
    ::waitpid(g, &st, 0);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const std::string children_file = "/proc/" + std::to_string(pause) + "/task/" + std::to_string(pause) + "/children";
  std::string orphans = read_in(children_file);
  EXPECT_FALSE(orphans.empty()) << "the orphan was re-parented to crius-pause";
  const bool reaped =
      crius::testing::eventually([&] { return read_in(children_file).empty(); }, std::chrono::milliseconds(5000));
  const std::string orphan = orphans.substr(0, orphans.find(' '));
  EXPECT_TRUE(reaped) << "orphan " << orphan << " state: " << read_file("/proc/" + orphan + "/status");
  if (!orphan.empty()) {
    EXPECT_FALSE(fs::exists("/proc/" + orphan)) << "reaped, not a zombie";
  }

  ASSERT_TRUE(stop_pod(env.daemon, id).ok());
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(pause))) << "crius-pause stopped and reaped";
  ASSERT_TRUE(remove_pod(env.daemon, id).ok());
  EXPECT_FALSE(fs::exists(pid_pin));
}

TEST(PodSandbox, ResolvConfHasWhatWasAsked) {
  PodEnv env;
  env.use(env.net.conflist());
  auto c = pod_config("dns");
  c.mutable_dns_config()->add_servers("10.96.0.10");
  c.mutable_dns_config()->add_servers("10.96.0.11");
  c.mutable_dns_config()->add_searches("crius-test.svc.cluster.local");
  c.mutable_dns_config()->add_searches("svc.cluster.local");
  c.mutable_dns_config()->add_options("ndots:5");
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, c, &id).ok()) << env.daemon.log();
  EXPECT_EQ(read_file(pod_info(env.daemon, id)["resolvConfPath"]),
            "search crius-test.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\n"
            "options ndots:5\n");
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());

  // A host-network pod without DNS config gets the node's file.
  auto h = pod_config("hostdns");
  set_host_network(h);
  ASSERT_TRUE(run_pod(env.daemon, h, &id).ok()) << env.daemon.log();
  EXPECT_EQ(read_file(pod_info(env.daemon, id)["resolvConfPath"]), read_file("/etc/resolv.conf"));
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

TEST(PodSandbox, BadInputIsRefusedNamingTheProblem) {
  PodEnv env;
  env.use(env.net.conflist());
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  struct Case {
    const char* what;
    std::function<void(v1::PodSandboxConfig&)> edit;
    grpc::StatusCode code;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"no name", [](auto& c) { c.mutable_metadata()->clear_name(); }, grpc::INVALID_ARGUMENT, "metadata.name"},
      {"no uid", [](auto& c) { c.mutable_metadata()->clear_uid(); }, grpc::INVALID_ARGUMENT, "metadata.uid"},
      {"no namespace", [](auto& c) { c.mutable_metadata()->clear_namespace_(); }, grpc::INVALID_ARGUMENT,
       "metadata.namespace"},
      {"not namespaced", [](auto& c) { (*c.mutable_linux()->mutable_sysctls())["kernel.panic"] = "1"; },
       grpc::INVALID_ARGUMENT, "kernel.panic"},
      {"unknown sysctl", [](auto& c) { (*c.mutable_linux()->mutable_sysctls())["net.ipv4.no_such_thing"] = "1"; },
       grpc::INVALID_ARGUMENT, "net.ipv4.no_such_thing"},
      {"net sysctl on host network",
       [](auto& c) {
         set_host_network(c);
         (*c.mutable_linux()->mutable_sysctls())["net.ipv4.ip_forward"] = "1";
       },
       grpc::INVALID_ARGUMENT, "net.ipv4.ip_forward"},
      {"pid TARGET",
       [](auto& c) { c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::TARGET); },
       grpc::INVALID_ARGUMENT, "pid TARGET"},
      {"userns",
       [](auto& c) {
         c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->mutable_userns_options()->set_mode(
             v1::POD);
       },
       grpc::INVALID_ARGUMENT, "userns_options.uids"},
      {"network TARGET",
       [](auto& c) { c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::TARGET); },
       grpc::INVALID_ARGUMENT, "network TARGET"},
      {"cgroupfs slice", [](auto& c) { c.mutable_linux()->set_cgroup_parent("kubepods.slice"); },
       grpc::INVALID_ARGUMENT, "kubepods.slice"},
  };
  for (const auto& k : cases) {
    auto c = pod_config("bad");
    k.edit(c);
    auto s = run_pod(env.daemon, c, nullptr);
    EXPECT_EQ(s.error_code(), k.code) << k.what << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(k.needle), std::string::npos) << k.what << ": " << s.error_message();
  }
  v1::ListPodSandboxResponse list;
  ASSERT_TRUE(env.daemon.runtime()->ListPodSandbox(deadline_ctx().get(), v1::ListPodSandboxRequest(), &list).ok());
  EXPECT_EQ(list.items_size(), 0);
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
}

TEST(PodSandbox, DuplicateIsRefusedNamingTheExistingId) {
  PodEnv env;
  env.use(env.net.conflist());
  auto c = pod_config("twice");
  std::string id, again;
  ASSERT_TRUE(run_pod(env.daemon, c, &id).ok()) << env.daemon.log();
  auto s = run_pod(env.daemon, c, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find(id), std::string::npos) << s.error_message();
  c.mutable_metadata()->set_attempt(1);
  ASSERT_TRUE(run_pod(env.daemon, c, &again).ok()) << "a new attempt is a new pod";
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
  EXPECT_TRUE(remove_pod(env.daemon, again).ok());
}

TEST(PodSandbox, ListFiltersByIdPrefixStateAndLabels) {
  PodEnv env;
  env.use(env.net.conflist());
  std::string a, b;
  auto ca = pod_config("alpha");
  auto cb = pod_config("beta");
  (*cb.mutable_labels())["tier"] = "back";
  ASSERT_TRUE(run_pod(env.daemon, ca, &a).ok());
  ASSERT_TRUE(run_pod(env.daemon, cb, &b).ok());
  ASSERT_TRUE(stop_pod(env.daemon, b).ok());
  auto list = [&](const v1::PodSandboxFilter& f) {
    v1::ListPodSandboxRequest req;
    *req.mutable_filter() = f;
    v1::ListPodSandboxResponse res;
    EXPECT_TRUE(env.daemon.runtime()->ListPodSandbox(deadline_ctx().get(), req, &res).ok());
    std::vector<std::string> ids;
    for (const auto& i : res.items()) ids.push_back(i.id());
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  v1::PodSandboxFilter f;
  auto both = std::vector<std::string>{a, b};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(list(f), both);
  f.set_id(a.substr(0, 12));
  EXPECT_EQ(list(f), std::vector<std::string>{a});
  f.Clear();
  f.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  EXPECT_EQ(list(f), std::vector<std::string>{b});
  f.Clear();
  (*f.mutable_label_selector())["tier"] = "back";
  EXPECT_EQ(list(f), std::vector<std::string>{b});
  (*f.mutable_label_selector())["app"] = "alpha";
  EXPECT_TRUE(list(f).empty());
  EXPECT_TRUE(remove_pod(env.daemon, a).ok());
  EXPECT_TRUE(remove_pod(env.daemon, b).ok());
}

TEST(PodSandbox, FailingPluginLeavesNothingBehind) {
  PodEnv env;
  env.use(env.net.conflist({R"({"type":"crius-fail"})"}, false));
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  std::string id;
  auto s = run_pod(env.daemon, pod_config("doomed"), &id);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_message().find("crius-fail refuses ADD"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("a test plugin that always fails"), std::string::npos) << s.error_message();
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before.mounts == after.mounts && before.files == after.files) << describe_difference(before, after);
  // The bridge plugin ran and was undone: its veth is gone and no address
  // is still allocated.
  EXPECT_TRUE(before.links == after.links) << describe_difference(before, after);
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(env.net.ipam.path(), ec))
    EXPECT_EQ(e.path().filename().string().rfind(env.net.subnet_prefix, 0), std::string::npos)
        << "address still allocated: " << e.path();
  v1::ListPodSandboxResponse list;
  ASSERT_TRUE(env.daemon.runtime()->ListPodSandbox(deadline_ctx().get(), v1::ListPodSandboxRequest(), &list).ok());
  EXPECT_EQ(list.items_size(), 0);
}

// The bridge plugin has made its veth and allocated an address when the
// next plugin of the chain is killed: the error says so, and the chain's DEL
// undoes what was made.
TEST(PodSandbox, PluginKilledMidAddLeavesNothingBehind) {
  PodEnv env;
  env.use(env.net.conflist({R"({"type":"crius-killed"})"}, false));
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  auto s = run_pod(env.daemon, pod_config("killed"), nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_message().find("crius-killed"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("signal 9"), std::string::npos) << "[" << s.error_message() << "]";
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before.mounts == after.mounts && before.files == after.files && before.links == after.links)
      << describe_difference(before, after);
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(env.net.ipam.path(), ec))
    EXPECT_EQ(e.path().filename().string().rfind(env.net.subnet_prefix, 0), std::string::npos)
        << "address still allocated: " << e.path();
  // Without the killed plugin (the daemon picks the new config up), the
  // next pod on the same network works.
  env.use(env.net.conflist({}, false));
  std::string id;
  EXPECT_TRUE(crius::testing::eventually([&] { return run_pod(env.daemon, pod_config("after"), &id).ok(); }));
  if (!id.empty()) {
    EXPECT_TRUE(remove_pod(env.daemon, id).ok());
  }
}

TEST(PodSandbox, HangingPluginTimesOutAndLeavesNothingBehind) {
  PodEnv env({}, {"--network-cni-plugin-timeout", "1s"});
  env.use(env.net.conflist({R"({"type":"crius-hang"})"}, false));
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  auto s = run_pod(env.daemon, pod_config("stuck"), nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_NE(s.error_message().find("crius-hang"), std::string::npos) << s.error_message();
  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before.mounts == after.mounts && before.files == after.files) << describe_difference(before, after);
}

TEST(PodSandbox, DelAfterADaemonRestartUsesTheCache) {
  TestNetwork net;
  TestPlugins plugins;
  const std::vector<std::string> args = {"--network-cni-plugin-dirs", plugins.dir.path() + ",/usr/lib/cni"};
  Daemon first({.extra_args = args});
  write_file(first.dir() / "cni/10-test.conflist", net.conflist());
  std::string id;
  ASSERT_TRUE(run_pod(first, pod_config("survivor"), &id).ok()) << first.log();
  const std::string ip = pod_status(first, id).status().network().ip();
  ASSERT_FALSE(ip.empty());
  EXPECT_EQ(first.stop(), 0);

  // The second daemon shares the first one's root (records, CNI cache); the
  // pins under the first one's state are still there. Its own CNI config dir
  // is empty: DEL must come from the cache.
  auto again = args;
  again.insert(again.end(), {"--root", first.dir() / "root"});
  Daemon second({.extra_args = again});
  auto st = pod_status(second, id);
  EXPECT_EQ(st.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(st.status().network().ip(), ip);
  ASSERT_TRUE(stop_pod(second, id).ok()) << second.log();
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(net.ipam.path(), ec))
    EXPECT_NE(e.path().filename().string(), ip) << "DEL did not release the address";
  EXPECT_TRUE(remove_pod(second, id).ok());
  EXPECT_FALSE(fs::exists(first.dir() / ("state/ns/" + id)));
}

TEST(PodSandbox, AttachmentWithoutASandboxIsDeletedAtStart) {
  TestNetwork net;
  TestPlugins plugins;
  const std::vector<std::string> args = {"--network-cni-plugin-dirs", plugins.dir.path() + ",/usr/lib/cni"};
  Daemon first({.extra_args = args});
  write_file(first.dir() / "cni/10-test.conflist", net.conflist());
  std::string id;
  ASSERT_TRUE(run_pod(first, pod_config("forgotten"), &id).ok()) << first.log();
  const std::string ip = pod_status(first, id).status().network().ip();
  EXPECT_EQ(first.stop(), 0);
  // As if the daemon had died between CNI ADD and writing the record.
  fs::remove(first.dir() / ("root/sandboxes/" + id + ".json"));
  ASSERT_TRUE(fs::exists(first.dir() / ("root/cni-cache/" + id + "-eth0.json")));

  auto again = args;
  again.insert(again.end(), {"--root", first.dir() / "root"});
  Daemon second({.extra_args = again});
  EXPECT_FALSE(fs::exists(first.dir() / ("root/cni-cache/" + id + "-eth0.json"))) << second.log();
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(net.ipam.path(), ec))
    EXPECT_NE(e.path().filename().string(), ip) << "GC did not release the address";
  // The pins of the forgotten pod are the first daemon's; clean them up here.
  for (const char* kind : {"net", "ipc", "uts"}) {
    const std::string pin = first.dir() / ("state/ns/" + id + "/" + kind);
    ::umount2(pin.c_str(), MNT_DETACH);
  }
  for (const auto& m : {first.dir() / ("state/sandboxes/" + id + "/shm")}) ::umount2(m.c_str(), MNT_DETACH);
}

TEST(PodSandbox, NetworkReadyTurnsTrueWhenAValidConfigAppears) {
  PodEnv env;
  auto network = [&] {
    v1::StatusResponse res;
    EXPECT_TRUE(env.daemon.runtime()->Status(deadline_ctx().get(), v1::StatusRequest(), &res).ok());
    return res.status().conditions(1);
  };
  auto c = network();
  EXPECT_FALSE(c.status());
  EXPECT_EQ(c.reason(), "NetworkPluginNotReady");
  EXPECT_NE(c.message().find("no CNI network config"), std::string::npos) << c.message();

  write_file(env.daemon.dir() / "cni/05-broken.conflist", "{not json");
  c = network();
  EXPECT_FALSE(c.status());
  EXPECT_NE(c.message().find("05-broken.conflist: not valid JSON"), std::string::npos) << c.message();

  write_file(env.daemon.dir() / "cni/07-missing.conflist",
             R"({"cniVersion":"1.0.0","name":"m","plugins":[{"type":"no-such-plugin"}]})");
  c = network();
  EXPECT_FALSE(c.status());
  EXPECT_NE(c.message().find("no-such-plugin"), std::string::npos) << c.message();

  fs::remove(env.daemon.dir() / "cni/07-missing.conflist");
  env.use(env.net.conflist());
  c = network();
  EXPECT_TRUE(c.status()) << c.message();
  // And a pod can run on it, without a restart.
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, pod_config("late"), &id).ok()) << env.daemon.log();
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

TEST(PodSandbox, ConfVersionsAndSingleConfFilesWork) {
  // Debian's plugins speak up to 1.0.0; 1.1.0 is checked with the test plugin below.
  for (const std::string version : {"0.3.0", "0.3.1", "0.4.0"}) {
    PodEnv env;
    env.use(env.net.conflist({}, true, version));
    std::string id;
    ASSERT_TRUE(run_pod(env.daemon, pod_config("v"), &id).ok()) << version << ": " << env.daemon.log();
    EXPECT_EQ(pod_status(env.daemon, id).status().network().ip().rfind(env.net.subnet_prefix, 0), 0u) << version;
    EXPECT_TRUE(remove_pod(env.daemon, id).ok()) << version;
  }
  {
    PodEnv env;
    env.use(R"({"cniVersion":"1.1.0","name":"recorded","plugins":[{"type":"crius-record"}]})");
    std::string id;
    ASSERT_TRUE(run_pod(env.daemon, pod_config("v11"), &id).ok()) << env.daemon.log();
    EXPECT_TRUE(remove_pod(env.daemon, id).ok());
    EXPECT_NE(env.plugins.calls().find("ADD " + id), std::string::npos);
    EXPECT_NE(env.plugins.calls().find("DEL " + id), std::string::npos);
  }
  PodEnv env;
  write_file(env.daemon.dir() / "cni/10-single.conf",
             R"({"cniVersion":"0.4.0","name":"single","type":"bridge","bridge":")" + env.net.bridge +
                 R"(","ipam":{"type":"host-local","subnet":")" + env.net.subnet_prefix + R"(0/24","dataDir":")" +
                 env.net.ipam.path() + R"("}})");
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, pod_config("single"), &id).ok()) << env.daemon.log();
  EXPECT_EQ(pod_status(env.daemon, id).status().network().ip().rfind(env.net.subnet_prefix, 0), 0u);
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

// The times of these calls are the benchmarks' (bench_cri --only pod-net,pod-host).
TEST(PodSandbox, NoResidueAfterTwentyPods) {
  PodEnv env(std::map<std::string, std::string>{}, std::vector<std::string>{"--cgroup-driver", "cgroupfs"});
  env.use(env.net.conflist());
  const std::string marker = "crius-test-" + env.net.bridge;
  const auto before = snapshot(env.daemon.dir().path(), marker, env.net.bridge);
  for (int i = 0; i < 20; ++i) {
    auto c = pod_config("pod" + std::to_string(i));
    c.mutable_linux()->set_cgroup_parent("/" + marker + "/pod" + std::to_string(i));
    (*c.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "0";
    if (i % 4 == 3) set_host_network(c);
    if (i % 4 == 1) c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::POD);
    std::string id;
    auto s = run_pod(env.daemon, c, &id);
    if (i % 4 == 3) {
      // sysctl net.* is refused on host network; run it without.
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      c.mutable_linux()->mutable_sysctls()->clear();
      s = run_pod(env.daemon, c, &id);
    }
    ASSERT_TRUE(s.ok()) << s.error_message();
    auto info = pod_info(env.daemon, id);
    EXPECT_EQ(info["cgroupParent"], "/" + marker + "/pod" + std::to_string(i));
    EXPECT_TRUE(fs::is_directory("/sys/fs/cgroup/memory/" + marker + "/pod" + std::to_string(i)));
    ASSERT_TRUE(stop_pod(env.daemon, id).ok());
    ASSERT_TRUE(remove_pod(env.daemon, id).ok());
  }
  // Host-network pods removed without a stop first.
  for (int i = 0; i < 10; ++i) {
    auto c = pod_config("host" + std::to_string(i));
    set_host_network(c);
    std::string id;
    ASSERT_TRUE(run_pod(env.daemon, c, &id).ok());
    ASSERT_TRUE(remove_pod(env.daemon, id).ok());
  }
  const auto after = snapshot(env.daemon.dir().path(), marker, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
}


TEST(PodSandbox, ShmSizeFollowsTheConfigKey) {
  PodEnv env({}, {"--runtime-shm-size", "8Mi"});
  auto c = pod_config("small-shm");
  set_host_network(c);
  std::string id;
  ASSERT_TRUE(run_pod(env.daemon, c, &id).ok()) << env.daemon.log();
  const std::string shm = pod_info(env.daemon, id)["shmPath"];
  struct statfs st {};
  ASSERT_EQ(::statfs(shm.c_str(), &st), 0) << shm;
  EXPECT_EQ(static_cast<uint64_t>(st.f_type), static_cast<uint64_t>(TMPFS_MAGIC));
  EXPECT_EQ(static_cast<uint64_t>(st.f_blocks) * static_cast<uint64_t>(st.f_bsize), 8ull << 20);
  EXPECT_TRUE(remove_pod(env.daemon, id).ok());
}

// The network condition of Status, polled until it is `ready` (bounded).
v1::RuntimeCondition network_condition(Daemon& d) {
  v1::StatusResponse res;
  EXPECT_TRUE(d.runtime()->Status(deadline_ctx().get(), v1::StatusRequest(), &res).ok());
  return res.status().conditions(1);
}

bool network_becomes(Daemon& d, bool ready) {
  return crius::testing::eventually([&] { return network_condition(d).status() == ready; }, std::chrono::seconds(4));
}

TEST(PodSandbox, NetworkReadyTurnsFalseWhenTheConfigIsRemoved) {
  PodEnv env;
  env.use(env.net.conflist());
  ASSERT_TRUE(network_becomes(env.daemon, true)) << network_condition(env.daemon).message();
  fs::remove(env.daemon.dir() / "cni/10-test.conflist");
  auto c = network_condition(env.daemon);
  EXPECT_FALSE(c.status());
  EXPECT_EQ(c.reason(), "NetworkPluginNotReady");
  EXPECT_NE(c.message().find("no CNI network config"), std::string::npos) << c.message();
  // A changed file is read again: put it back broken, then valid.
  write_file(env.daemon.dir() / "cni/10-test.conflist", "{not json");
  c = network_condition(env.daemon);
  EXPECT_FALSE(c.status());
  EXPECT_NE(c.message().find("not valid JSON"), std::string::npos) << c.message();
  env.use(env.net.conflist());
  EXPECT_TRUE(network_condition(env.daemon).status()) << network_condition(env.daemon).message();
}

TEST(PodSandbox, NetworkReadyTurnsTrueWhenAMissingConfigDirIsCreated) {
  TestNetwork net;
  TestPlugins plugins;
  TempDir outer;
  const std::string dir = outer / "not/yet";
  Daemon d({.extra_args = {"--network-cni-plugin-dirs", plugins.dir.path() + ",/usr/lib/cni",
                           "--network-cni-config-dir", dir}});
  auto c = network_condition(d);
  EXPECT_FALSE(c.status());
  EXPECT_NE(c.message().find("no CNI network config"), std::string::npos) << c.message();
  // Two levels appear, then the file; the directory is also removed and made again.
  fs::create_directories(dir);
  EXPECT_FALSE(network_condition(d).status());
  write_file(dir + "/10-test.conflist", net.conflist());
  EXPECT_TRUE(network_condition(d).status()) << network_condition(d).message();
  fs::remove_all(outer / "not");
  EXPECT_FALSE(network_condition(d).status());
  fs::create_directories(dir);
  write_file(dir + "/10-test.conflist", net.conflist());
  EXPECT_TRUE(network_condition(d).status()) << network_condition(d).message();
}

TEST(PodSandbox, PauseThatDiesIsReapedAndThePodIsNotReady) {
  PodEnv env;
  const std::string id = run_shared_pid_pod(env, "pause-dies");
  const pid_t pause = pod_info(env.daemon, id)["pausePid"].get<int>();
  ASSERT_GT(pause, 0);
  ASSERT_EQ(::kill(pause, SIGKILL), 0);
  // Reaped by the daemon: /proc/<pid> goes away (a zombie would keep it).
  const bool gone = crius::testing::eventually([&] { return !fs::exists("/proc/" + std::to_string(pause)); }, std::chrono::milliseconds(5000));
  EXPECT_TRUE(gone) << "crius-pause " << pause << " left as: " << read_file("/proc/" + std::to_string(pause) + "/status");
  const bool notready = crius::testing::eventually([&] { return pod_status(env.daemon, id).status().state() == v1::SANDBOX_NOTREADY; }, std::chrono::milliseconds(5000));
  EXPECT_TRUE(notready);
  EXPECT_EQ(pod_info(env.daemon, id)["pausePid"].get<int>(), 0);
  EXPECT_TRUE(env.daemon.wait_for_log("crius-pause of pod sandbox died"));
  // Stop still tears the network down, and remove clears everything.
  EXPECT_TRUE(pod_info(env.daemon, id)["cniAttached"].get<bool>());
  ASSERT_TRUE(stop_pod(env.daemon, id).ok()) << env.daemon.log();
  EXPECT_FALSE(pod_info(env.daemon, id)["cniAttached"].get<bool>());
  const std::string pid_pin = pod_info(env.daemon, id)["namespaces"]["pid"];
  ASSERT_TRUE(remove_pod(env.daemon, id).ok()) << env.daemon.log();
  EXPECT_FALSE(fs::exists(pid_pin));
}

// After a daemon restart crius-pause is no longer the daemon's child (init
// reaps it); its death is still noticed.
TEST(PodSandbox, PauseThatDiesAfterADaemonRestartMakesThePodNotReady) {
  PodEnv env;
  const std::string id = run_shared_pid_pod(env, "pause-restart");
  const pid_t pause = pod_info(env.daemon, id)["pausePid"].get<int>();
  ASSERT_GT(pause, 0);
  env.daemon.restart();
  EXPECT_EQ(pod_status(env.daemon, id).status().state(), v1::SANDBOX_READY);
  ASSERT_EQ(::kill(pause, SIGKILL), 0);
  const bool notready = crius::testing::eventually([&] { return pod_status(env.daemon, id).status().state() == v1::SANDBOX_NOTREADY; }, std::chrono::milliseconds(5000));
  EXPECT_TRUE(notready);
  ASSERT_TRUE(remove_pod(env.daemon, id).ok()) << env.daemon.log();
}
}  // namespace
}  // namespace crius::test
