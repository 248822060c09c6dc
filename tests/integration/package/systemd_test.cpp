// The Debian package under a running systemd, which this machine lacks as
// PID 1: a throw-away container of this very machine (an overlay over `/`,
// booted with systemd-nspawn, nothing downloaded) installs the package,
// and there postinst enables and starts the unit, `systemctl reload` applies
// a config change, `systemctl stop` stops the daemon and leaves pods alone,
// journald has the daemon's lines exactly as it wrote them, and purge works.
// The container and everything it made go when the test ends, pass or fail.
// The CRI proto first: its Signal enum must be parsed before <signal.h>'s macros.
#include "api/cri.grpc.pb.h"
//
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/package/package_helpers.h"
#include "tests/support/eventually.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
namespace v1 = runtime::v1;
using namespace std::chrono_literals;
using crius::testing::eventually;
using namespace package;

std::string trim(std::string s) {
  s.erase(s.find_last_not_of(" \n") + 1);
  return s;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// `s` as one single-quoted shell word.
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Where systemd-nspawn makes its cgroups (`payload/` for the container,
// `supervisor/` for itself) below the one it was started in: the cgroup2
// mount (all of /sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1) and
// v1's name=systemd hierarchy.
std::vector<fs::path> nspawn_hierarchies() {
  std::vector<fs::path> out;
  std::istringstream in(slurp("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    // id parent dev root mountpoint options [optional…] - fstype source superoptions
    std::istringstream f(line);
    std::string id, parent, dev, root, point, skip, fstype, source, super;
    f >> id >> parent >> dev >> root >> point;
    while (f >> skip && skip != "-") {
    }
    f >> fstype >> source >> super;
    if (fstype == "cgroup2" || (fstype == "cgroup" && ("," + super + ",").find(",name=systemd,") != std::string::npos))
      out.push_back(point);
  }
  return out;
}

// Every directory of a cgroup tree, deepest first (the order rmdir needs).
std::vector<fs::path> cgroup_tree(const fs::path& top) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  if (!fs::is_directory(top, ec)) return dirs;
  dirs.push_back(top);
  for (fs::recursive_directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
  });
  return dirs;
}

// Removes what a run in `dir` made out here once its container is gone:
// the cgroups named after the directory (with nspawn's payload/ and
// supervisor/ in them), and the directory. Says what it could not remove.
std::vector<std::string> remove_run(const fs::path& dir) {
  std::vector<std::string> errors;
  for (const auto& h : nspawn_hierarchies())
    for (const auto& d : cgroup_tree(h / dir.filename()))
      if (::rmdir(d.c_str()) != 0) errors.push_back("rmdir " + d.string() + ": " + std::strerror(errno));
  // The mounts were the private namespace's; never recurse into a mount all the same.
  if (slurp("/proc/self/mountinfo").find(" " + dir.string() + "/") != std::string::npos) {
    errors.push_back("mounts are left under " + dir.string() + "; not removing it");
    return errors;
  }
  std::error_code ec;
  for (const char* f : {"console.log", "owner", "rw", "root", ""}) fs::remove(dir / f, ec);
  if (fs::exists(dir)) errors.push_back("cannot remove " + dir.string() + ": " + ec.message());
  return errors;
}

// What runs killed before their teardown (a ctest timeout) left: their
// containers powered off with them (PR_SET_PDEATHSIG), their empty cgroups
// and directories did not. A run's directory names its test process.
void sweep_killed_runs() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/tmp", ec)) {
    if (!e.path().filename().string().starts_with("crius-systemd-")) continue;
    pid_t owner = 0;
    std::istringstream(slurp(e.path() / "owner")) >> owner;
    if (owner > 0 && (::kill(owner, 0) == 0 || errno != ESRCH)) continue;  // still running
    remove_run(e.path());
  }
}

// Boots the container: run as `unshare --mount sh -c kBoot dir deb cgroup…`,
// so that its mounts exist only in that private mount namespace and vanish
// with nspawn, even if the test is killed. In that namespace:
//  - upper and work dirs on a tmpfs: overlayfs refuses an upper dir inside
//    its lower one, and the lower one is `/` (read-only; changes go to the
//    upper dir and die with the tmpfs);
//  - Docker's policy-rc.d, which this machine has and a real host has not,
//    would stop postinst from starting the unit: gone in the container;
//  - a tmpfs on /run: nspawn keeps its lock and mount-propagation dirs in
//    the host's /run/systemd/nspawn, which here is on disk and would stay;
//  - nspawn goes into the test's own cgroup, so that what it makes there
//    is found and removed afterwards.
// nspawn's options:
//  -b                    boots the container's /lib/systemd/systemd as PID 1;
//  --private-network     a network namespace with only lo: no veth, nothing
//                        of the host's network (the CNI bridge of a pod is
//                        made in there);
//  --register=no         no systemd-machined to register with on this host;
//  --keep-unit           no systemd on the host to make a scope unit: stay in
//                        the cgroup given, with payload/ and supervisor/ in it;
//  --link-journal=no     the container's journal stays in the container;
//  --console=read-only   boot messages to console.log (for failure messages)
//                        without a terminal.
// Then the arguments of the container's systemd: boot basic.target only
// (journald, the sockets), not this machine's multi-user services (containerd,
// postgresql, prometheus, docker-registry, gettys), and mask timers.target
// (apt-daily and friends have no business running here).
constexpr const char* kBoot = R"(set -e
dir=$1 deb=$2
shift 2
mount -t tmpfs -o size=512m,mode=0700 crius-systemd-test "$dir/rw"
mkdir "$dir/rw/upper" "$dir/rw/work"
mount -t overlay crius-systemd-test -o "lowerdir=/,upperdir=$dir/rw/upper,workdir=$dir/rw/work" "$dir/root"
cp "$deb" "$dir/root/var/tmp/crius.deb"
rm -f "$dir/root/usr/sbin/policy-rc.d"
mount -t tmpfs -o mode=0755 crius-systemd-test-run /run
for cg in "$@"; do echo $$ > "$cg/cgroup.procs"; done
exec systemd-nspawn -D "$dir/root" -b --private-network --register=no --keep-unit --link-journal=no \
  --console=read-only systemd.unit=basic.target systemd.mask=timers.target
)";

// A booted container of this machine with the .deb in its /var/tmp; powered
// off, its cgroups and directory removed when it goes.
class Machine {
 public:
  Machine(const fs::path& dir, const std::string& deb) : dir_(dir) {
    fs::create_directories(dir_ / "rw");
    fs::create_directories(dir_ / "root");
    for (const auto& h : nspawn_hierarchies()) {
      const fs::path cg = h / dir_.filename();
      if (::mkdir(cg.c_str(), 0755) != 0) {
        error_ = "mkdir " + cg.string() + ": " + std::strerror(errno);
        return;
      }
      cgroups_.push_back(cg);
    }
    std::vector<std::string> args = {"/usr/bin/unshare", "--mount", "--propagation", "private",
                                     "/bin/sh",          "-c",      kBoot,           "boot",
                                     dir_.string(),      deb};
    for (const auto& cg : cgroups_) args.push_back(cg.string());
    nspawn_ = ::fork();
    if (nspawn_ == 0) {
      // The test killed (a ctest timeout): nspawn powers the container off.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      const std::string log = (dir_ / "console.log").string();
      if (!std::freopen("/dev/null", "r", stdin) || !std::freopen(log.c_str(), "w", stdout) ||
          ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
        ::_exit(126);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // The leader: nspawn's child, once it is the container's systemd.
    const fs::path children = "/proc/" + std::to_string(nspawn_) + "/task/" + std::to_string(nspawn_) + "/children";
    // (Before nspawn, the shell's children are mount, cp and rm.)
    eventually(
        [&] {
          int st = 0;
          if (::waitpid(nspawn_, &st, WNOHANG) == nspawn_) {
            nspawn_ = -1;  // failed before booting: reaped
            return true;
          }
          pid_t child = -1;
          std::istringstream(slurp(children)) >> child;
          if (child > 0 && trim(slurp("/proc/" + std::to_string(child) + "/comm")) == "systemd") leader_ = child;
          return leader_ > 0;
        },
        30s);
    if (leader_ <= 0) {
      error_ = "no container came up:\n" + console();
      return;
    }
    // Up when its systemd says so (the manager's socket may not be there yet).
    eventually(
        [&] {
          state_ = trim(run("systemctl is-system-running --wait", 30).out);
          return state_ == "running" || state_ == "degraded";
        },
        30s);
    if (state_ != "running" && state_ != "degraded")
      error_ = "the container's systemd is " + state_ + ":\n" + console();
  }

  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  ~Machine() {
    if (nspawn_ > 0) {
      // SIGTERM: nspawn asks the container's systemd to power off. Failing
      // that, SIGKILL to PID 1 ends the whole PID namespace.
      ::kill(nspawn_, SIGTERM);
      int st = 0;
      const bool gone = eventually([&] { return ::waitpid(nspawn_, &st, WNOHANG) == nspawn_; }, 20s);
      if (!gone) {
        ADD_FAILURE() << "the container did not power off within 20 s:\n" << console();
        if (leader_ > 0) ::kill(leader_, SIGKILL);
        ::kill(nspawn_, SIGKILL);
        ::waitpid(nspawn_, &st, 0);
      }
    }
    for (const auto& e : remove_run(dir_)) ADD_FAILURE() << e;
  }

  bool up() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& state() const { return state_; }
  std::string console() const { return slurp(dir_ / "console.log"); }
  pid_t nspawn() const { return nspawn_; }
  pid_t leader() const { return leader_; }
  const std::vector<fs::path>& cgroups() const { return cgroups_; }
  // The container's root as seen from here.
  fs::path root() const { return "/proc/" + std::to_string(leader_) + "/root"; }

  // A shell script run inside: every namespace of the container (its root,
  // its PID 1, its journal), a clean environment, at most `seconds` long.
  Cmd run(const std::string& script, int seconds = 60) const {
    return sh("timeout " + std::to_string(seconds) + " nsenter -t " + std::to_string(leader_) +
              " -a -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 /bin/sh -c " + quote(script));
  }

 private:
  fs::path dir_;
  std::vector<fs::path> cgroups_;
  pid_t nspawn_ = -1;
  pid_t leader_ = -1;
  std::string state_;
  std::string error_;
};

// What this test may leave on the host, as it was before.
struct HostState {
  std::set<std::string> links;   // /sys/class/net
  bool nspawn_run = false;       // /run/systemd/nspawn
  bool crius_installed = false;  // the host's own dpkg database

  static HostState now() {
    HostState s;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/class/net", ec)) s.links.insert(e.path().filename());
    s.nspawn_run = fs::exists("/run/systemd/nspawn");
    s.crius_installed = sh("dpkg-query -W -f='${Status}' crius").out.find("installed") != std::string::npos;
    return s;
  }
};

std::unique_ptr<grpc::ClientContext> ctx(int seconds = 30) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

class PackageUnderSystemd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts, systemd-nspawn)";
    if (::access("/usr/bin/systemd-nspawn", X_OK) != 0)
      GTEST_SKIP() << "no systemd-nspawn (Debian package systemd-container; deploy/install-deps.sh installs it)";
    if (::access("/lib/systemd/systemd", X_OK) != 0) GTEST_SKIP() << "no /lib/systemd/systemd to boot";
    if (::access("/usr/bin/nsenter", X_OK) != 0 || ::access("/usr/bin/unshare", X_OK) != 0)
      GTEST_SKIP() << "no nsenter or unshare (util-linux)";
    sweep_killed_runs();
    before_ = HostState::now();
    char tmpl[] = "/tmp/crius-systemd-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "owner") << ::getpid();
  }

  // Whatever happened: the container gone, and nothing of it on the host.
  void TearDown() override {
    if (dir_.empty()) return;
    std::vector<fs::path> cgroups;
    pid_t nspawn = -1, leader = -1;
    if (machine_) {
      cgroups = machine_->cgroups();
      nspawn = machine_->nspawn();
      leader = machine_->leader();
      machine_.reset();
    } else {
      for (const auto& e : remove_run(dir_)) ADD_FAILURE() << e;
    }
    for (pid_t p : {nspawn, leader}) {
      if (p > 0) {
        EXPECT_FALSE(fs::exists("/proc/" + std::to_string(p))) << "process " << p << " is left";
      }
    }
    for (const auto& cg : cgroups) EXPECT_FALSE(fs::exists(cg)) << "cgroup " << cg << " is left";
    EXPECT_FALSE(fs::exists(dir_)) << dir_ << " is left";
    EXPECT_EQ(slurp("/proc/self/mountinfo").find("crius-systemd-test"), std::string::npos) << "a mount is left";
    const HostState after = HostState::now();
    // Names of what nspawn (ve-*, vb-*) or a pod's network (the bridge
    // plugin's veth*, the packaged crius0) would make out here; other
    // tests' links may come and go meanwhile.
    for (const auto& l : after.links) {
      const bool ours = l.starts_with("ve-") || l.starts_with("vb-") || l.starts_with("veth") || l == "crius0";
      EXPECT_FALSE(ours && !before_.links.contains(l)) << "network link " << l << " is left";
    }
    EXPECT_EQ(after.nspawn_run, before_.nspawn_run) << "/run/systemd/nspawn made or removed";
    EXPECT_EQ(after.crius_installed, before_.crius_installed) << "the host's own dpkg database changed";
  }

  // The daemon's own lines in the journal (not systemd's about the unit), as
  // journald stores them: `-o cat` prints the message and nothing else.
  std::vector<std::string> daemon_journal(const std::string& main_pid) {
    const Cmd j = machine_->run("journalctl --no-pager -o cat _SYSTEMD_UNIT=crius.service _PID=" + main_pid);
    EXPECT_EQ(j.code, 0) << j.out;
    return lines(j.out);
  }

  std::string main_pid() { return trim(machine_->run("systemctl show -P MainPID crius").out); }

  // The unit's socket, answering.
  bool serving() {
    const fs::path socket = machine_->root() / "run/crius/crius.sock";
    if (!fs::exists(socket)) return false;
    auto rt = v1::RuntimeService::NewStub(grpc::CreateChannel("unix:" + socket.string(),
                                                              grpc::InsecureChannelCredentials()));
    v1::VersionResponse version;
    return rt->Version(ctx(2).get(), v1::VersionRequest(), &version).ok();
  }

  fs::path dir_;
  HostState before_;
  std::unique_ptr<Machine> machine_;
};

TEST_F(PackageUnderSystemd, StartsReloadsStopsAndLogsToTheJournalUnchanged) {
  ASSERT_FALSE(deb().empty());
  const auto t0 = std::chrono::steady_clock::now();
  machine_ = std::make_unique<Machine>(dir_, deb());
  ASSERT_TRUE(machine_->up()) << machine_->error();
  EXPECT_EQ(machine_->state(), "running") << machine_->run("systemctl --failed --no-legend").out;
  const auto booted = std::chrono::steady_clock::now();

  // Install: postinst enables the unit and, systemd running, starts it.
  const Cmd installed = machine_->run("dpkg -i /var/tmp/crius.deb", 120);
  ASSERT_EQ(installed.code, 0) << installed.out;
  EXPECT_EQ(trim(machine_->run("systemctl is-enabled crius").out), "enabled");
  EXPECT_EQ(trim(machine_->run("systemctl is-active crius").out), "active")
      << machine_->run("systemctl status --no-pager crius").out;
  ASSERT_TRUE(eventually([&] { return serving(); }, 30s)) << machine_->run("journalctl --no-pager -u crius").out;
  const std::string pid = main_pid();
  ASSERT_NE(pid, "0");
  EXPECT_EQ(trim(machine_->run("readlink /proc/" + pid + "/exe").out), "/usr/bin/crius");
  const Cmd info = machine_->run("crius status info");
  EXPECT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("/run/crius/crius.sock"), std::string::npos) << info.out;

  // journald has the daemon's stderr lines as written: logfmt, nothing added.
  const std::regex serving_line(R"re(time=\S+ level=info msg="crius is serving the CRI"( [a-z_]+=\S+)+)re");
  // (journald reads the stream on its own time: the line may come a moment
  // after the socket answers.)
  std::vector<std::string> journal;
  std::string serving_seen;
  eventually(
      [&] {
        journal = daemon_journal(pid);
        for (const auto& l : journal)
          if (l.find("msg=\"crius is serving the CRI\"") != std::string::npos) serving_seen = l;
        return !serving_seen.empty();
      },
      10s);
  for (const auto& l : journal)
    EXPECT_TRUE(l.starts_with("time=") && l.find(" level=") != std::string::npos) << "not logfmt: " << l;
  EXPECT_TRUE(std::regex_match(serving_seen, serving_line)) << "'" << serving_seen << "'";
  EXPECT_NE(serving_seen.find(" socket=/run/crius/crius.sock "), std::string::npos) << serving_seen;

  // Reload (SIGHUP) to JSON logs: the same process, now writing JSON objects.
  ASSERT_EQ(machine_->run("mkdir -p /etc/crius/crius.d && echo 'log_format: json' > /etc/crius/crius.d/50-json.yaml")
                .code,
            0);
  const Cmd reloaded = machine_->run("systemctl reload crius");
  ASSERT_EQ(reloaded.code, 0) << reloaded.out;
  nlohmann::json reload_line;
  EXPECT_TRUE(eventually(
      [&] {
        journal = daemon_journal(pid);
        for (const auto& l : journal) {
          auto j = nlohmann::json::parse(l, nullptr, false);
          if (j.is_object() && j.value("msg", "") == "config reloaded") reload_line = j;
        }
        return !reload_line.is_null();
      },
      10s))
      << ::testing::PrintToString(journal);
  EXPECT_EQ(reload_line.value("level", ""), "info") << reload_line.dump();
  EXPECT_TRUE(reload_line.contains("time")) << reload_line.dump();
  EXPECT_EQ(main_pid(), pid) << "reload restarted the daemon";

  // A pod, so that something of the daemon's runs beside it: it shares its
  // PID namespace, so crius-pause runs. Its network is the first CNI config
  // of /etc/cni/net.d (this machine's, or the packaged one where it has
  // none), made in the container's network namespace. No container in it:
  // the container could pull from no registry without a network.
  auto channel = grpc::CreateChannel("unix:" + (machine_->root() / "run/crius/crius.sock").string(),
                                     grpc::InsecureChannelCredentials());
  auto rt = v1::RuntimeService::NewStub(channel);
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name("unit");
  pod.mutable_metadata()->set_namespace_("crius-test");
  pod.mutable_metadata()->set_uid("uid-unit");
  pod.set_hostname("unit");
  pod.set_log_directory("/var/log/pods/crius-test_unit_uid-unit");
  auto* ns = pod.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::POD);
  ns->set_pid(v1::POD);
  v1::RunPodSandboxRequest run_req;
  *run_req.mutable_config() = pod;
  v1::RunPodSandboxResponse run_res;
  auto s = rt->RunPodSandbox(ctx(60).get(), run_req, &run_res);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << machine_->run("journalctl --no-pager -u crius").out;
  const std::string pod_id = run_res.pod_sandbox_id();
  v1::PodSandboxStatusRequest ps_req;
  ps_req.set_pod_sandbox_id(pod_id);
  v1::PodSandboxStatusResponse ps;
  ASSERT_TRUE(rt->PodSandboxStatus(ctx().get(), ps_req, &ps).ok());
  EXPECT_FALSE(ps.status().network().ip().empty()) << "the pod has no IP";
  const std::string pause = trim(machine_->run("pidof crius-pause").out);
  ASSERT_FALSE(pause.empty());

  // Stop: the daemon exits within seconds and takes its socket along; the
  // pod's process stays (KillMode=process).
  const auto stopping = std::chrono::steady_clock::now();
  const Cmd stopped = machine_->run("systemctl stop crius", 30);
  const auto stop_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopping).count();
  EXPECT_EQ(stopped.code, 0) << stopped.out;
  // Not a timing: a daemon deaf to SIGTERM would take systemd's 90 s stop
  // timeout. (The channel above stays open, as kubelet's does: the daemon
  // then waits out most of its 5 s shutdown grace.)
  EXPECT_LT(stop_ms, 10000);
  EXPECT_EQ(trim(machine_->run("systemctl is-active crius").out), "inactive");
  EXPECT_NE(machine_->run("test -e /proc/" + pid).code, 0) << "the daemon is still running";
  EXPECT_FALSE(fs::exists(machine_->root() / "run/crius/crius.sock"));
  EXPECT_EQ(machine_->run("kill -0 " + pause).code, 0) << "stopping the unit killed the pod's crius-pause";

  // Started again, the daemon has the pod back, ready; then the pod goes.
  ASSERT_EQ(machine_->run("systemctl start crius").code, 0);
  ASSERT_TRUE(eventually([&] { return serving(); }, 30s)) << machine_->run("journalctl --no-pager -u crius").out;
  v1::ListPodSandboxResponse listed;
  ASSERT_TRUE(rt->ListPodSandbox(ctx().get(), v1::ListPodSandboxRequest(), &listed).ok());
  ASSERT_EQ(listed.items_size(), 1);
  EXPECT_EQ(listed.items(0).id(), pod_id);
  EXPECT_EQ(listed.items(0).state(), v1::SANDBOX_READY);
  s = stop_and_remove_pod(*rt, pod_id);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(machine_->run("kill -0 " + pause).code, 0) << "crius-pause outlived its pod";
  EXPECT_EQ(machine_->run("systemctl stop crius", 30).code, 0);

  // Purge (the drop-in first: it and its directory are the admin's, and would keep /etc/crius).
  machine_->run("rm -r /etc/crius/crius.d");
  const Cmd purged = machine_->run("dpkg --purge crius", 120);
  EXPECT_EQ(purged.code, 0) << purged.out;
  const Cmd left = machine_->run(
      "ls -d /usr/bin/crius /etc/crius /var/lib/crius /run/crius /lib/systemd/system/crius.service "
      "/etc/systemd/system/multi-user.target.wants/crius.service 2>/dev/null");
  EXPECT_EQ(left.out, "") << "left after purge";
  EXPECT_NE(trim(machine_->run("systemctl is-enabled crius").out), "enabled");

  const auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  std::printf("boot: %lld ms, install to purge: %lld ms, systemctl stop: %lld ms\n", ms(booted - t0),
              ms(std::chrono::steady_clock::now() - booted), static_cast<long long>(stop_ms));
}

}  // namespace
}  // namespace crius::test
