// The Debian package as an operator meets it: cpack builds it from this
// tree, dpkg installs it, the installed daemon (started as the unit's
// ExecStart starts it, plus private root, state, socket, CNI dir and
// metrics port) runs a pod on the packaged CNI network with a container in
// it, and dpkg --purge leaves the machine as it found it.
// The CRI proto first: its Signal enum must be parsed before <signal.h>'s macros.
#include "api/cri.grpc.pb.h"
//
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"
#include "tests/integration/package/package_helpers.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
namespace v1 = runtime::v1;
using namespace std::chrono_literals;
using namespace package;

const std::string kPackaged = "/usr/share/crius/10-crius-bridge.conflist";
const std::string kBridge = "crius0";  // the packaged network's bridge
const std::string kWants = "/etc/systemd/system/multi-user.target.wants/crius.service";

// dpkg, waiting for its lock if another dpkg or apt holds it.
Cmd dpkg(const std::string& args) {
  Cmd r;
  for (int i = 0; i < 60; ++i) {
    r = sh("DEBIAN_FRONTEND=noninteractive dpkg " + args);
    if (r.code == 0 || r.out.find("lock") == std::string::npos) break;
    std::this_thread::sleep_for(2s);
  }
  return r;
}

// Every file under `dir` with its content (empty map when absent).
std::map<std::string, std::string> files_under(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file()) out[it->path().string()] = slurp(it->path());
  return out;
}

// What the package may touch, as it was before the test.
struct MachineState {
  std::optional<std::string> crictl;  // /etc/crictl.yaml
  std::map<std::string, std::string> cni;  // /etc/cni
  bool cni_dir = false;
  bool leases = false;  // host-local's /var/lib/cni/networks/crius
  bool bridge = false;

  static MachineState now() {
    MachineState s;
    if (fs::exists("/etc/crictl.yaml")) s.crictl = slurp("/etc/crictl.yaml");
    s.cni = files_under("/etc/cni");
    s.cni_dir = fs::exists("/etc/cni");
    s.leases = fs::exists("/var/lib/cni/networks/crius");
    s.bridge = fs::exists("/sys/class/net/" + kBridge);
    return s;
  }
};

// The argv of the unit's ExecStart= line.
std::vector<std::string> exec_start(const std::string& unit) {
  std::istringstream in(slurp(unit));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ExecStart=", 0) != 0) continue;
    std::istringstream words(line.substr(10));
    std::vector<std::string> argv;
    for (std::string w; words >> w;) argv.push_back(w);
    return argv;
  }
  return {};
}

std::unique_ptr<grpc::ClientContext> ctx(int seconds = 60) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!std::freopen(log.c_str(), "w", stderr) || !std::freopen("/dev/null", "w", stdout)) ::_exit(126);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// SIGTERM, then SIGKILL after 15 s; the exit code.
int stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int st = 0;
  for (int i = 0; i < 1500; ++i) {
    if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::this_thread::sleep_for(10ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  return -1;
}

// Processes whose executable is `exe`.
std::vector<int> processes_of(const std::string& exe) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    if (fs::read_symlink(e.path() / "exe", ec2).string() == exe) out.push_back(std::stoi(name));
  }
  return out;
}

class Package : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (dpkg -i)";
    if (sh("dpkg-query -W -f='${Status}' crius").out.find("installed") != std::string::npos)
      GTEST_SKIP() << "a crius package is installed on this machine; not touching it";
    // Purge removes these: they must not hold someone else's state.
    for (const char* d : {"/var/lib/crius", "/run/crius", "/etc/crius"})
      if (fs::exists(d)) GTEST_SKIP() << d << " exists (a crius installed from source?); purge would remove it";
    before_ = MachineState::now();
    if (before_.bridge || before_.leases) GTEST_SKIP() << "the crius CNI network is in use on this machine";
    char tmpl[] = "/tmp/crius-package-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  static const std::string& deb() { return package::deb(); }

  // A file of the admin's, removed again in TearDown.
  void plant(const std::string& path, const std::string& content) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << content;
    planted_.push_back(path);
  }

  Cmd install() {
    Cmd r = dpkg("-i " + deb());
    EXPECT_EQ(r.code, 0) << r.out;
    return r;
  }
  Cmd purge() {
    Cmd r = dpkg("--purge crius");
    EXPECT_EQ(r.code, 0) << r.out;
    return r;
  }

  // Whatever happened: no daemon, the package purged, the files the
  // package may touch and the bridge as they were.
  void TearDown() override {
    if (dir_.empty()) return;
    if (daemon_ > 0) stop(daemon_);
    if (sh("dpkg-query -W -f='${Status}' crius").out.find("installed") != std::string::npos)
      dpkg("--purge crius");
    if (!before_.bridge && fs::exists("/sys/class/net/" + kBridge)) sh("ip link del " + kBridge);
    if (!before_.leases) fs::remove_all("/var/lib/cni/networks/crius");
    for (const auto& p : planted_) fs::remove(p);
    if (!before_.cni_dir) sh("rmdir /etc/cni/net.d /etc/cni");
    const MachineState after = MachineState::now();
    EXPECT_EQ(after.crictl, before_.crictl) << "/etc/crictl.yaml changed";
    EXPECT_EQ(after.cni, before_.cni) << "/etc/cni changed";
    EXPECT_EQ(after.cni_dir, before_.cni_dir) << "/etc/cni made or removed";
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
  MachineState before_;
  pid_t daemon_ = -1;
  std::vector<std::string> planted_;
};

TEST_F(Package, InstallsRunsANetworkedPodAndPurgesClean) {
  const std::string deb = Package::deb();
  ASSERT_FALSE(deb.empty());
  EXPECT_TRUE(fs::path(deb).filename().string().starts_with("crius_")) << deb;
  const Cmd fields = sh("dpkg-deb -f " + deb + " Package Depends");
  EXPECT_NE(fields.out.find("containernetworking-plugins"), std::string::npos) << fields.out;
  EXPECT_NE(fields.out.find("iptables"), std::string::npos) << fields.out;
  EXPECT_NE(fields.out.find("libc6"), std::string::npos) << fields.out;  // from dpkg-shlibdeps

  // Install.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(install().code, 0);
  for (const char* f : {"/usr/bin/crius", "/usr/bin/crius-runtime", "/usr/bin/crius-monitor", "/usr/bin/crius-pause",
                        "/usr/bin/crius-pull"})
    EXPECT_EQ(::access(f, X_OK), 0) << f;
  EXPECT_TRUE(fs::exists("/etc/crius/crius.yaml"));
  // Enabled, with or without a running systemd.
  EXPECT_TRUE(fs::is_symlink(kWants));
  EXPECT_NE(sh("dpkg-query --showformat='${Conffiles}' -W crius").out.find("/etc/crius/crius.yaml"),
            std::string::npos);
  // A crictl.yaml and a CNI network where the machine had none; what it had untouched.
  if (before_.crictl) {
    EXPECT_EQ(slurp("/etc/crictl.yaml"), *before_.crictl);
  } else {
    EXPECT_NE(slurp("/etc/crictl.yaml").find("unix:///run/crius/crius.sock"), std::string::npos);
  }
  bool had_network = false;
  for (const auto& [path, content] : before_.cni)
    if (path.starts_with("/etc/cni/net.d/") && (path.ends_with(".conf") || path.ends_with(".conflist") ||
                                                path.ends_with(".json")))
      had_network = true;
  if (had_network) {
    EXPECT_EQ(files_under("/etc/cni"), before_.cni);
  } else {
    EXPECT_EQ(slurp("/etc/cni/net.d/10-crius-bridge.conflist"), slurp(kPackaged));
  }

  // Start it as the unit does, on private directories, with the packaged
  // config file and the packaged network.
  const std::string unit = "/lib/systemd/system/crius.service";
  std::vector<std::string> argv = exec_start(unit);
  ASSERT_FALSE(argv.empty()) << slurp(unit);
  EXPECT_EQ(argv[0], "/usr/bin/crius");
  // So does the rootless one (systemctl --user).
  const std::string user_unit = "/usr/lib/systemd/user/crius.service";
  const std::vector<std::string> user_argv = exec_start(user_unit);
  ASSERT_FALSE(user_argv.empty()) << slurp(user_unit);
  EXPECT_EQ(user_argv[0], "/usr/bin/crius");
  fs::create_directories(dir_ / "cni");
  fs::copy_file(kPackaged, dir_ / "cni/10-crius-bridge.conflist");
  const std::string socket = (dir_ / "state/crius.sock").string();
  argv.insert(argv.end(), {"--root", dir_ / "root", "--state", dir_ / "state", "--listen", socket,
                           "--network-cni-config-dir", dir_ / "cni", "--metrics-address",
                           "127.0.0.1:" + std::to_string(fixtures::free_loopback_port())});
  daemon_ = spawn(argv, dir_ / "crius.log");
  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  auto rt = v1::RuntimeService::NewStub(channel);
  v1::VersionResponse version;
  bool ready = false;
  for (int i = 0; i < 3000 && !ready; ++i) {
    ready = fs::exists(socket) && rt->Version(ctx(2).get(), v1::VersionRequest(), &version).ok();
    if (!ready) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(ready) << slurp(dir_ / "crius.log");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("dpkg -i to a daemon answering Version: %lld ms\n", static_cast<long long>(ms.count()));
  RecordProperty("dpkg_install_to_ready_ms", static_cast<int>(ms.count()));
  EXPECT_EQ(version.runtime_name(), "crius");

  v1::StatusResponse status;
  ASSERT_TRUE(rt->Status(ctx().get(), v1::StatusRequest(), &status).ok());
  for (const auto& c : status.status().conditions()) EXPECT_TRUE(c.status()) << c.type() << ": " << c.message();

  // A pod on the packaged network that shares its PID namespace (so
  // crius-pause runs), with a container (so crius-monitor runs).
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name("pkg");
  pod.mutable_metadata()->set_namespace_("crius-test");
  pod.mutable_metadata()->set_uid("uid-pkg");
  pod.set_hostname("pkg");
  pod.set_log_directory(dir_ / "logs");
  auto* ns = pod.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::POD);
  ns->set_pid(v1::POD);
  v1::RunPodSandboxRequest run_req;
  *run_req.mutable_config() = pod;
  v1::RunPodSandboxResponse run_res;
  auto s = rt->RunPodSandbox(ctx().get(), run_req, &run_res);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << slurp(dir_ / "crius.log");
  const std::string pod_id = run_res.pod_sandbox_id();

  v1::PodSandboxStatusRequest ps_req;
  ps_req.set_pod_sandbox_id(pod_id);
  v1::PodSandboxStatusResponse ps;
  ASSERT_TRUE(rt->PodSandboxStatus(ctx().get(), ps_req, &ps).ok());
  const std::string ip = ps.status().network().ip();
  EXPECT_TRUE(ip.starts_with("10.86.")) << "pod IP " << ip;

  // The busybox test image from a loopback registry: no internet needed.
  fixtures::Registry registry;
  fixtures::push_image(registry, "test/busybox", "latest", {fixtures::busybox_layer()},
                       {.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}});
  const std::string image = registry.host() + "/test/busybox:latest";
  auto img = v1::ImageService::NewStub(channel);
  v1::PullImageRequest pull;
  pull.mutable_image()->set_image(image);
  v1::PullImageResponse pulled;
  s = img->PullImage(ctx(120).get(), pull, &pulled);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::CreateContainerRequest cc;
  cc.set_pod_sandbox_id(pod_id);
  *cc.mutable_sandbox_config() = pod;
  auto* c = cc.mutable_config();
  c->mutable_metadata()->set_name("sleeper");
  c->mutable_image()->set_image(image);
  c->add_command("sleep");
  c->add_command("3600");
  c->set_log_path("sleeper/0.log");
  *c->mutable_linux()->mutable_security_context()->mutable_namespace_options() = *ns;
  v1::CreateContainerResponse created;
  s = rt->CreateContainer(ctx().get(), cc, &created);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << slurp(dir_ / "crius.log");
  const std::string ctr = created.container_id();
  v1::StartContainerRequest start;
  start.set_container_id(ctr);
  v1::StartContainerResponse started;
  s = rt->StartContainer(ctx().get(), start, &started);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The daemon found its monitor beside itself, in /usr/bin.
  EXPECT_FALSE(processes_of("/usr/bin/crius-monitor").empty());

  // The container sees the pod's address on eth0.
  v1::ExecSyncRequest ex;
  ex.set_container_id(ctr);
  for (const char* a : {"ip", "-4", "addr", "show", "dev", "eth0"}) ex.add_cmd(a);
  ex.set_timeout(10);
  v1::ExecSyncResponse exr;
  s = rt->ExecSync(ctx().get(), ex, &exr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(exr.exit_code(), 0) << exr.stderr();
  EXPECT_NE(exr.stdout().find("inet " + ip + "/16"), std::string::npos) << exr.stdout();

  // Tear down as kubelet does, then stop the daemon.
  s = stop_and_remove_pod(*rt, pod_id);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stop(daemon_), 0) << slurp(dir_ / "crius.log");
  daemon_ = -1;
  EXPECT_TRUE(processes_of("/usr/bin/crius-monitor").empty());
  EXPECT_EQ(sh("grep -c " + dir_.string() + " /proc/self/mountinfo").out, "0\n") << "mounts left under " << dir_;

  // Purge: nothing of the package is left, and what it found is as it was
  // (checked in TearDown).
  ASSERT_EQ(purge().code, 0);
  for (const char* f : {"/usr/bin/crius", "/usr/bin/crius-runtime", "/usr/bin/crius-monitor", "/usr/bin/crius-pause",
                        "/usr/bin/crius-pull", "/etc/crius", "/lib/systemd/system/crius.service",
                        "/usr/lib/systemd/user/crius.service",
                        "/usr/share/crius", "/usr/share/doc/crius",
                        "/var/lib/crius", "/run/crius", "/usr/share/lintian/overrides/crius",
                        "/var/lib/systemd/deb-systemd-helper-enabled/crius.service"})
    EXPECT_FALSE(fs::exists(f)) << f << " is left after purge";
  EXPECT_FALSE(fs::is_symlink(kWants)) << kWants << " is left after purge";
  // The leases go with the network when the package installed it; a network
  // that was there before (an admin's, or install-deps.sh's same file) keeps
  // them, and TearDown removes what this test's pod made.
  if (!had_network) {
    EXPECT_FALSE(fs::exists("/var/lib/cni/networks/crius")) << "host-local's leases of the crius network are left";
  }
  if (!before_.crictl) {
    EXPECT_FALSE(fs::exists("/etc/crictl.yaml"));
  }
}

// An admin's own network and crictl.yaml are neither replaced nor joined
// by ours, and outlive the purge.
TEST_F(Package, LeavesTheAdminsCniNetworkAndCrictlYamlAlone) {
  if (before_.crictl || !before_.cni.empty()) GTEST_SKIP() << "the machine has its own (the test above covers it)";
  ASSERT_FALSE(deb().empty());
  const std::string net = "/etc/cni/net.d/50-admin.conflist";
  plant(net, R"({"cniVersion": "1.0.0", "name": "admin", "plugins": [{"type": "loopback"}]})");
  plant("/etc/crictl.yaml", "runtime-endpoint: unix:///run/other.sock\n");
  const auto planted = files_under("/etc/cni");
  const Cmd installed = install();
  EXPECT_NE(installed.out.find("already holds a CNI network config"), std::string::npos) << installed.out;
  EXPECT_EQ(files_under("/etc/cni"), planted);
  EXPECT_EQ(slurp("/etc/crictl.yaml"), "runtime-endpoint: unix:///run/other.sock\n");
  purge();
  EXPECT_EQ(files_under("/etc/cni"), planted);
  EXPECT_EQ(slurp("/etc/crictl.yaml"), "runtime-endpoint: unix:///run/other.sock\n");
}

// Our network, once the admin edited it, is theirs: purge keeps it.
TEST_F(Package, PurgeKeepsTheDefaultNetworkOnceEdited) {
  if (!before_.cni.empty()) GTEST_SKIP() << "the machine has its own CNI config";
  ASSERT_FALSE(deb().empty());
  install();
  const std::string ours = "/etc/cni/net.d/10-crius-bridge.conflist";
  ASSERT_TRUE(fs::exists(ours));
  planted_.push_back(ours);  // TearDown removes it whatever happens
  std::string edited = slurp(ours);
  edited.replace(edited.find("10.86.0"), 7, "10.87.0");
  std::ofstream(ours) << edited;
  const Cmd purged = purge();
  EXPECT_NE(purged.out.find("keeping " + ours), std::string::npos) << purged.out;
  EXPECT_EQ(slurp(ours), edited);
  EXPECT_FALSE(fs::exists("/usr/bin/crius"));
}

}  // namespace
}  // namespace crius::test
