// The builtin runtime library in process, as the per-pod monitor will use
// it: bundles made from the busybox fixture, checked from the host.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <signal.h>
#include <sys/stat.h>
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
#include "oci/runtime/console.h"
#include "oci/runtime/container.h"
#include "oci/runtime/defaults.h"
#include "tests/fixtures/rootfs/rootfs.h"

namespace crius::oci::runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class OciRuntime : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/crius-oci-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    rootfs_template_ = tmpl;
    crius::fixtures::make_busybox_rootfs(rootfs_template_ + "/rootfs");
  }
  static void TearDownTestSuite() { fs::remove_all(rootfs_template_); }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/crius-oci-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ / "state";
    bundle_ = dir_ / "bundle";
    out_ = dir_ / "out";
    fs::create_directories(bundle_);
    fs::create_directories(out_);
    fs::permissions(out_, fs::perms::all);  // written by non-root users in the container
    fs::permissions(dir_, fs::perms(0755));
    fs::copy(rootfs_template_ + "/rootfs", bundle_ / "rootfs",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    config_ = json::parse(default_spec().dump());
    config_["process"]["terminal"] = false;
    config_["root"]["readonly"] = false;
    // No network namespace: nothing to clean up on the host side.
    json ns = json::array();
    for (const auto& n : config_["linux"]["namespaces"])
      if (n["type"] != "network") ns.push_back(n);
    config_["linux"]["namespaces"] = ns;
    config_["mounts"].push_back({{"destination", "/out"}, {"type", "bind"}, {"source", out_.string()},
                                 {"options", {"rbind", "rw"}}});
  }

  void TearDown() override {
    for (const auto& id : created_) {
      try {
        Container::load(root_, id).destroy(true);
      } catch (...) {
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  void write_config() {
    std::ofstream(bundle_ / "config.json") << config_.dump(2);
  }

  CreateOptions options() const {
    CreateOptions o;
    o.bundle = bundle_.string();
    return o;
  }

  Container create(const std::string& id) {
    write_config();
    created_.push_back(id);
    return Container::create(root_, id, options());
  }

  // Runs args in a container to completion; returns the exit status.
  int run(const std::vector<std::string>& args) {
    config_["process"]["args"] = args;
    Container c = create("run-" + std::to_string(++runs_));
    c.start();
    int status = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      pid_t r = ::waitpid(c.pid(), &status, WNOHANG);
      if (r == c.pid()) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(c.pid(), SIGKILL);
        ADD_FAILURE() << "container did not exit in 30s";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    c.destroy(true);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  static inline std::string rootfs_template_;
  fs::path dir_, root_, bundle_, out_;
  json config_;
  std::vector<std::string> created_;
  int runs_ = 0;
};

TEST_F(OciRuntime, CreateStartKillDeleteLifecycle) {
  config_["process"]["args"] = {"sleep", "100"};
  Container c = create("life");
  State s = c.state();
  EXPECT_EQ(s.status, Status::created);
  EXPECT_TRUE(fs::exists(fs::path("/proc") / std::to_string(c.pid())));
  EXPECT_TRUE(fs::exists(root_ / "life" / "state.json"));
  EXPECT_EQ(Container::load(root_, "life").state().status, Status::created);
  EXPECT_THROW(Container::create(root_, "life", options()), Error);

  c.start();
  EXPECT_EQ(c.state().status, Status::running);
  EXPECT_THROW(c.start(), Error);
  try {
    c.destroy(false);
    ADD_FAILURE() << "deleted a running container without force";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
  }
  ASSERT_EQ(Container::list(root_).size(), 1u);

  c.kill(SIGKILL, false);
  ASSERT_TRUE(wait_for_exit(c.pid(), 10000));
  EXPECT_EQ(c.state().status, Status::stopped);
  try {
    c.kill(SIGTERM, false);
    ADD_FAILURE() << "killed a stopped container";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
  }
  c.destroy(false);
  EXPECT_FALSE(fs::exists(root_ / "life"));
  EXPECT_THROW(Container::load(root_, "life"), Error);
}

TEST_F(OciRuntime, ProcessGetsItsIdentityAndLimits) {
  config_["hostname"] = "box";
  config_["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {2000}}};
  config_["process"]["cwd"] = "/home/app";
  config_["process"]["env"] = {"PATH=/bin", "GREETING=hi"};
  config_["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 512}, {"soft", 256}}};
  ASSERT_EQ(run({"sh", "-c",
                 "id -u > /out/uid; id -G > /out/groups; pwd > /out/cwd; hostname > /out/hostname; "
                 "echo $GREETING $HOME > /out/env; ulimit -n > /out/nofile; grep -E '^(CapEff|CapBnd|NoNewPrivs)' "
                 "/proc/self/status > /out/status"}),
            0);
  EXPECT_EQ(slurp(out_ / "uid"), "1000\n");
  EXPECT_EQ(slurp(out_ / "groups"), "1000 2000\n");
  EXPECT_EQ(slurp(out_ / "cwd"), "/home/app\n");
  EXPECT_EQ(slurp(out_ / "hostname"), "box\n");
  EXPECT_EQ(slurp(out_ / "env"), "hi /home/app\n");
  EXPECT_EQ(slurp(out_ / "nofile"), "256\n");
  const std::string status = slurp(out_ / "status");
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
  // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE in the bounding set.
  EXPECT_NE(status.find("CapBnd:\t0000000020000420"), std::string::npos) << status;
}

TEST_F(OciRuntime, SeccompReturnsTheConfiguredErrno) {
  config_["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  EXPECT_EQ(run({"sh", "-c", "mkdir /tmp/x 2> /out/err; grep Seccomp: /proc/self/status > /out/mode"}), 0);
  EXPECT_NE(slurp(out_ / "err").find("Function not implemented"), std::string::npos) << slurp(out_ / "err");
  EXPECT_EQ(slurp(out_ / "mode"), "Seccomp:\t2\n");
}

TEST_F(OciRuntime, MaskedAndReadonlyPaths) {
  EXPECT_EQ(run({"sh", "-c",
                 "cat /proc/keys | wc -c > /out/keys; ls /sys/firmware | wc -l > /out/fw; "
                 "echo 1 > /proc/sys/kernel/shmmax 2> /dev/null; echo $? > /out/sys"}),
            0);
  EXPECT_EQ(slurp(out_ / "keys"), "0\n");  // /dev/null over it
  EXPECT_EQ(slurp(out_ / "fw"), "0\n");     // an empty read-only tmpfs
  EXPECT_NE(slurp(out_ / "sys"), "0\n");    // read-only
}

TEST_F(OciRuntime, SymlinkToRootCannotMoveAMountOntoTheHost) {
  // /evil → / and /evil2 → ../../.. in the rootfs: a mount destination
  // through them must stay inside the rootfs.
  fs::create_symlink("/", bundle_ / "rootfs" / "evil");
  fs::create_symlink("../../../../..", bundle_ / "rootfs" / "evil2");
  const std::string name = "crius-escape-" + std::to_string(::getpid());
  config_["mounts"].push_back({{"destination", "/evil/tmp/" + name}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  config_["mounts"].push_back({{"destination", "/evil2/tmp/" + name + "-2"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  EXPECT_EQ(run({"sh", "-c", "grep " + name + " /proc/self/mountinfo | wc -l > /out/mounts"}), 0);
  EXPECT_EQ(slurp(out_ / "mounts"), "2\n");
  EXPECT_FALSE(fs::exists("/tmp/" + name));
  EXPECT_FALSE(fs::exists("/tmp/" + name + "-2"));
  EXPECT_TRUE(fs::is_directory(bundle_ / "rootfs" / "tmp" / name));
  EXPECT_TRUE(fs::is_directory(bundle_ / "rootfs" / "tmp" / (name + "-2")));
}

TEST_F(OciRuntime, FailingHookFailsCreateAndLeavesNothing) {
  config_["process"]["args"] = {"sleep", "100"};
  config_["hooks"] = {{"createRuntime", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo nope >&2; exit 7"}}}}}};
  try {
    create("hooked");
    ADD_FAILURE() << "create succeeded";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("createRuntime hook /bin/sh failed: exit status 7: nope"), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(root_ / "hooked"));
  EXPECT_TRUE(Container::list(root_).empty());
}

TEST_F(OciRuntime, HooksSeeTheStateOnStdin) {
  const std::string out = out_.string();
  auto hook = [&](const std::string& name) {
    return json{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + out + "/" + name + ".json"}}};
  };
  config_["hooks"] = {{"createRuntime", {hook("createRuntime")}},
                      {"poststart", {hook("poststart")}},
                      {"poststop", {hook("poststop")}}};
  ASSERT_EQ(run({"true"}), 0);
  auto cr = json::parse(slurp(out_ / "createRuntime.json"));
  EXPECT_EQ(cr["status"], "creating");
  EXPECT_GT(cr["pid"].get<int>(), 0);
  EXPECT_EQ(cr["bundle"], bundle_.string());
  EXPECT_EQ(json::parse(slurp(out_ / "poststart.json"))["status"], "running");
  EXPECT_EQ(json::parse(slurp(out_ / "poststop.json"))["status"], "stopped");
}

TEST_F(OciRuntime, JoinedNamespaceOfTheWrongTypeIsRefused) {
  config_["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "/proc/self/ns/ipc"}});
  try {
    create("wrongns");
    ADD_FAILURE() << "create succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("another type"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root_ / "wrongns"));
}

TEST_F(OciRuntime, MissingExecutableFailsCreate) {
  config_["process"]["args"] = {"no-such-binary"};
  try {
    create("noexe");
    ADD_FAILURE() << "create succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("executable file not found"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root_ / "noexe"));
}


TEST_F(OciRuntime, NewUserNamespaceGetsTheMapsWrittenByTheRuntime) {
  config_["linux"]["namespaces"].push_back({{"type", "user"}});
  config_["linux"]["namespaces"].push_back({{"type", "network"}});  // sysfs needs its own netns in a userns
  config_["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  config_["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  // The rootfs belongs to host root, which the container's root is not:
  // mount points must exist already (runc behaves the same).
  fs::create_directories(bundle_ / "rootfs" / "out");
  ASSERT_EQ(run({"sh", "-c", "cat /proc/self/uid_map > /out/uid_map; id -u > /out/uid; touch /out/f"}), 0);
  std::istringstream in(slurp(out_ / "uid_map"));
  uint64_t inside = 1, outside = 0, size = 0;
  in >> inside >> outside >> size;
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(outside, 100000u);
  EXPECT_EQ(size, 65536u);
  EXPECT_EQ(slurp(out_ / "uid"), "0\n");
  struct stat st;
  ASSERT_EQ(::stat((out_ / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);  // container root is host uid 100000
}

TEST_F(OciRuntime, ConsoleSocketReceivesThePtyMaster) {
  const std::string sock = (dir_ / "console.sock").string();
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);

  config_["process"]["terminal"] = true;
  config_["process"]["args"] = {"sh", "-c", "tty; echo done"};
  write_config();
  created_.push_back("tty");
  CreateOptions o = options();
  o.console_socket = sock;
  Container c = Container::create(root_, "tty", o);
  Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  std::string name;
  Fd master = receive_fd(conn.get(), &name);
  EXPECT_EQ(name.rfind("/dev/pts/", 0), 0u) << name;
  c.start();
  std::string out;
  char buf[256];
  for (int i = 0; i < 100 && out.find("done") == std::string::npos; ++i) {
    struct pollfd p {master.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(master.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("done"), std::string::npos) << out;
  wait_for_exit(c.pid(), 10000);
  c.destroy(true);
}

TEST_F(OciRuntime, JoinsAnotherContainersPidNamespaceByPath) {
  config_["process"]["args"] = {"sleep", "100"};
  Container first = create("first");
  first.start();
  const std::string ns = "/proc/" + std::to_string(first.pid()) + "/ns/pid";
  json namespaces = json::array();
  for (const auto& n : config_["linux"]["namespaces"])
    if (n["type"] != "pid") namespaces.push_back(n);
  namespaces.push_back({{"type", "pid"}, {"path", ns}});
  config_["linux"]["namespaces"] = namespaces;
  // The init is a grandchild here (setns(pid) applies to children only).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  EXPECT_EQ(run({"sh", "-c", "readlink /proc/self/ns/pid > /out/ns; cat /proc/1/cmdline > /out/one"}), 0);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  char link[128] = {};
  ASSERT_GT(::readlink(ns.c_str(), link, sizeof link - 1), 0);
  EXPECT_EQ(slurp(out_ / "ns"), std::string(link) + "\n");
  EXPECT_EQ(slurp(out_ / "one").substr(0, 5), "sleep");
  first.destroy(true);
}

TEST_F(OciRuntime, DevicesAndReadonlyRoot) {
  config_["root"]["readonly"] = true;
  config_["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/fuse"}, {"major", 10}, {"minor", 229},
                                  {"fileMode", 0620}, {"uid", 1000}, {"gid", 5}}};
  ASSERT_EQ(run({"sh", "-c",
                 "stat -c '%t:%T %a %u:%g' /dev/fuse /dev/null > /out/dev; touch /rootfile 2> /dev/null; "
                 "echo $? > /out/ro"}),
            0);
  EXPECT_EQ(slurp(out_ / "dev"), "a:e5 620 1000:5\n1:3 666 0:0\n");
  EXPECT_NE(slurp(out_ / "ro"), "0\n");
}

}  // namespace
}  // namespace crius::oci::runtime
