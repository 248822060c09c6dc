// exec_process called in process, as the per-pod monitor calls it: the test
// is a subreaper, gives the process a pipe as stdout, waits for the pid it
// gets back (its own child) and reads what the process wrote.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "oci/runtime/container.h"
#include "oci/runtime/defaults.h"
#include "oci/runtime/exec.h"
#include "base/fd.h"
#include "base/file.h"
#include "oci/runtime/spec.h"
#include "tests/fixtures/rootfs/rootfs.h"

namespace crius::oci::runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// Reads fd until EOF or the timeout.
std::string read_all(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Waits for a child up to the timeout; its wait status, or -1 (then killed).
int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(2ms);
  }
}

class ExecProcess : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    char tmpl[] = "/tmp/crius-exec-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    rootfs_template_ = tmpl;
    crius::fixtures::make_busybox_rootfs(rootfs_template_ + "/rootfs");
  }
  static void TearDownTestSuite() {
    if (!rootfs_template_.empty()) fs::remove_all(rootfs_template_);
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    // As the monitor is: exec'd processes whose runtime side is gone come to us.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    char tmpl[] = "/tmp/crius-exec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::permissions(dir_, fs::perms(0755));  // reachable by a user namespace's root
    root_ = dir_ / "state";
    bundle_ = dir_ / "bundle";
    fs::create_directories(bundle_);
    fs::copy(rootfs_template_ + "/rootfs", bundle_ / "rootfs",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    config_ = json::parse(default_spec().dump());
    config_["process"]["terminal"] = false;
    config_["process"]["args"] = {"sleep", "600"};
    config_["root"]["readonly"] = false;
    json ns = json::array();
    for (const auto& n : config_["linux"]["namespaces"])
      if (n["type"] != "network") ns.push_back(n);
    config_["linux"]["namespaces"] = ns;
  }

  void TearDown() override {
    // Exec'd processes first: a dying pid namespace init waits until they
    // are reaped, and we are their reaper.
    for (pid_t p : execd_) {
      ::kill(p, SIGKILL);
      wait_child(p, 5s);
    }
    if (created_) {
      try {
        Container::load(root_, "exec").destroy(true);
      } catch (...) {
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  Container start() {
    std::ofstream(bundle_ / "config.json") << config_.dump(2);
    CreateOptions o;
    o.bundle = bundle_.string();
    created_ = true;
    Container c = Container::create(root_, "exec", o);
    c.start();
    return c;
  }

  static Process process(const std::vector<std::string>& args) {
    Process p;
    p.args = args;
    p.env = {"PATH=/bin:/usr/bin", "FOO=bar"};
    p.cwd = "/";
    return p;
  }

  // Runs p in c with stdout and stderr on a pipe; returns (status, output).
  std::pair<int, std::string> run(const Container& c, const Process& p) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    Fd rd(fds[0]), wr(fds[1]);
    ExecOptions o;
    o.stdio[1] = wr.get();
    o.stdio[2] = wr.get();
    const pid_t pid = exec_process(c, p, o);
    wr.reset();
    std::string out = read_all(rd.get(), 20s);
    return {wait_child(pid, 20s), out};
  }

  static inline std::string rootfs_template_;
  fs::path dir_, root_, bundle_;
  json config_;
  bool created_ = false;
  std::vector<pid_t> execd_;
};

TEST_F(ExecProcess, StdoutThroughAPipeAndTheExitStatusToTheCaller) {
  Container c = start();
  auto [status, out] = run(c, process({"sh", "-c", "echo hello-$FOO; grep NSpid /proc/self/status; exit 3"}));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_NE(out.find("hello-bar\n"), std::string::npos) << out;
  // The container's /proc shows one pid, in its pid namespace (a process
  // outside that namespace could not even read /proc/self there).
  auto at = out.find("NSpid:");
  ASSERT_NE(at, std::string::npos) << out;
  std::istringstream in(out.substr(at + 6));
  std::string inner_pid, more;
  in >> inner_pid >> more;
  EXPECT_FALSE(inner_pid.empty()) << out;
  EXPECT_NE(inner_pid, "1") << out;
  EXPECT_TRUE(more.empty()) << out;
}

TEST_F(ExecProcess, JoinsTheInitsNamespacesAndIsTheCallersChild) {
  Container c = start();
  Process p = process({"sleep", "600"});
  ExecOptions o;
  const pid_t pid = exec_process(c, p, o);
  execd_.push_back(pid);
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state, ppid;
  fields >> state >> ppid;
  EXPECT_EQ(ppid, std::to_string(::getpid()));
  for (const char* ns : {"mnt", "pid", "ipc", "uts"}) {
    struct stat a, b;
    ASSERT_EQ(::stat(("/proc/" + std::to_string(pid) + "/ns/" + ns).c_str(), &a), 0) << ns;
    ASSERT_EQ(::stat(("/proc/" + std::to_string(c.pid()) + "/ns/" + ns).c_str(), &b), 0) << ns;
    EXPECT_EQ(a.st_ino, b.st_ino) << ns;
  }
}

TEST_F(ExecProcess, JoinsTheUserNamespaceFirst) {
  config_["linux"]["namespaces"].push_back({{"type", "user"}});
  config_["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  config_["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  Container c = start();
  auto [status, out] = run(c, process({"sh", "-c", "id -u; tr -s ' ' < /proc/self/uid_map"}));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << " " << out;
  EXPECT_EQ(out, "0\n 0 100000 65536\n") << out;
}

// The init is moved into a cgroup of its own (one v1 hierarchy and, when
// mounted, the v2 one); the exec'd process must land in the same ones.
TEST_F(ExecProcess, JoinsTheInitsCgroups) {
  Container c = start();
  const std::string name = "crius-exec-test-" + std::to_string(::getpid());
  std::vector<fs::path> made;
  for (const char* base : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"}) {
    if (!fs::exists(fs::path(base) / "cgroup.procs")) continue;
    fs::path dir = fs::path(base) / name;
    if (::mkdir(dir.c_str(), 0755) != 0) continue;
    made.push_back(dir);
    std::ofstream(dir / "cgroup.procs") << c.pid();
  }
  if (made.empty()) GTEST_SKIP() << "no pids v1 or unified cgroup hierarchy to make a cgroup in";
  Process p = process({"sleep", "600"});
  const pid_t pid = exec_process(c, p, ExecOptions{});
  execd_.push_back(pid);
  const std::string init_cg = read_file("/proc/" + std::to_string(c.pid()) + "/cgroup");
  EXPECT_NE(init_cg.find(name), std::string::npos) << init_cg;
  EXPECT_EQ(read_file("/proc/" + std::to_string(pid) + "/cgroup"), init_cg);
  // Cleanup: processes gone first, then the cgroups.
  for (pid_t e : execd_) {
    ::kill(e, SIGKILL);
    wait_child(e, 5s);
  }
  execd_.clear();
  c.destroy(true);
  created_ = false;
  for (const auto& d : made) {
    for (int i = 0; i < 500 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(fs::exists(d)) << d;
  }
}

TEST_F(ExecProcess, MissingExecutableIsReportedWithItsName) {
  Container c = start();
  try {
    exec_process(c, process({"/no/such/binary"}), ExecOptions{});
    FAIL() << "exec of a missing binary succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/binary"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), ErrorCode::not_found) << e.what();
  }
  EXPECT_EQ(c.state().status, Status::running);
}

TEST_F(ExecProcess, StoppedContainerIsRefused) {
  Container c = start();
  c.kill(SIGKILL, false);
  ASSERT_TRUE(wait_for_exit(c.pid(), 5000));
  try {
    exec_process(c, process({"true"}), ExecOptions{});
    FAIL() << "exec into a stopped container succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition) << e.what();
  }
}

TEST(ParseProcess, ErrorsNameTheField) {
  Process p = parse_process(json{{"args", {"sh"}}, {"cwd", "/"}, {"user", {{"uid", 5}, {"additionalGids", {7}}}}});
  EXPECT_EQ(p.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(p.user.uid, 5u);
  EXPECT_EQ(p.user.additional_gids, std::vector<uint32_t>{7});
  try {
    parse_process(json{{"user", {{"uid", "root"}}}});
    FAIL() << "a string uid was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("process.user.uid"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crius::oci::runtime
