#include "tests/bench/cri/harness.h"
//
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/bench/cri/bench_user.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::bench {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("writing " + path + ": " + std::strerror(errno));
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

std::string link_of(const std::string& path) {
  std::error_code ec;
  auto t = fs::read_symlink(path, ec);
  return ec ? "" : t.string();
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string n = e.path().filename();
    if (!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit)) out.push_back(static_cast<pid_t>(std::stol(n)));
  }
  return out;
}

std::string cmdline_of(pid_t pid) {
  std::string c = slurp("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(c.begin(), c.end(), '\0', ' ');
  return c;
}

std::string comm_of(pid_t pid) {
  std::string c = slurp("/proc/" + std::to_string(pid) + "/comm");
  while (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

// A process belongs to a run when it names the run dir on its command line,
// runs from it (exe, root, cwd) or holds a file in it.
bool belongs_to(pid_t pid, const std::string& dir) {
  const std::string p = "/proc/" + std::to_string(pid);
  if (cmdline_of(pid).find(dir) != std::string::npos) return true;
  for (const char* l : {"/exe", "/root", "/cwd"})
    if (under(link_of(p + l), dir)) return true;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator(p + "/fd", ec))
    if (under(link_of(fd.path()), dir)) return true;
  return false;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

void kill_run_processes(const std::string& dir) {
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<pid_t> victims;
    for (pid_t pid : all_pids())
      if (pid != ::getpid() && pid > 1 && belongs_to(pid, dir)) victims.push_back(pid);
    if (victims.empty()) return;
    for (pid_t pid : victims) ::kill(pid, SIGKILL);
    for (auto until = Clock::now() + 5s; Clock::now() < until;) {
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      if (std::none_of(victims.begin(), victims.end(), alive)) break;
      std::this_thread::sleep_for(20ms);
    }
  }
}

void remove_cgroups(const std::string& cgroup_root) {
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    const fs::path top = h.path() / cgroup_root.substr(1);
    std::error_code ec2;
    if (!fs::is_directory(top, ec2)) continue;
    std::vector<fs::path> dirs{top};
    for (auto it = fs::recursive_directory_iterator(top, ec2); !ec2 && it != fs::recursive_directory_iterator();
         it.increment(ec2))
      if (it->is_directory(ec2)) dirs.push_back(it->path());
    for (const auto& d : dirs)
      for (const auto& l : lines_of(d / "cgroup.procs")) ::kill(static_cast<pid_t>(std::stol(l)), SIGKILL);
    // Deepest first; a cgroup whose last task is still exiting is busy for a moment.
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
      return a.string().size() > b.string().size();
    });
    for (const auto& d : dirs) {
      for (int i = 0; i < 100 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(20ms);
    }
  }
}

void unmount_under(const std::string& dir) {
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<std::string> points;
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
      std::istringstream ls(line);
      std::string a, b, c, root, mp;
      ls >> a >> b >> c >> root >> mp;
      if (under(mp, dir)) points.push_back(mp);
    }
    if (points.empty()) return;
    std::sort(points.begin(), points.end(), [](auto& x, auto& y) { return x.size() > y.size(); });
    for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
  }
}

void quiet(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) {
    // Best effort: the thing may be gone already.
  }
}

// A 10.77.<n>.0/24 that no interface uses now.
std::string free_subnet_prefix() {
  std::string used;
  if (FILE* f = ::popen("ip -4 -o addr show 2>/dev/null", "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) used.append(buf, n);
    ::pclose(f);
  }
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 1000; ++i) {
    const std::string p = "10.77." + std::to_string(1 + rng() % 250) + ".";
    if (used.find(" " + p) == std::string::npos) return p;
  }
  throw std::runtime_error("no free 10.77.x.0/24 subnet");
}

}  // namespace

std::unique_ptr<grpc::ClientContext> deadline(std::chrono::seconds s) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + s);
  return c;
}

grpc::Status pull(CriDaemon& d, const std::string& ref, std::string* id, std::chrono::seconds timeout) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(ref);
  v1::PullImageResponse res;
  auto s = d.image().PullImage(deadline(timeout).get(), req, &res);
  if (id) *id = res.image_ref();
  return s;
}

grpc::Status remove_image(CriDaemon& d, const std::string& ref, std::chrono::seconds timeout) {
  v1::RemoveImageRequest req;
  req.mutable_image()->set_image(ref);
  v1::RemoveImageResponse res;
  return d.image().RemoveImage(deadline(timeout).get(), req, &res);
}

bool image_present(CriDaemon& d, const std::string& ref) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(ref);
  v1::ImageStatusResponse res;
  return d.image().ImageStatus(deadline(std::chrono::seconds(30)).get(), req, &res).ok() && res.has_image();
}

// ---- run directory and cleanup ----

RunDir::RunDir() {
  std::string tmpl = "/tmp/" + std::string(kRunPrefix) + "XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = tmpl;
  tag_ = path_.substr(path_.size() - 6);
  write_text(*this / "owner", std::to_string(::getpid()) + "\n");
}

RunDir::~RunDir() {
  cleanup_run(path_, tag_);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void RunDir::note(const std::string& list, const std::string& value) const {
  std::ofstream(*this / list, std::ios::app) << value << "\n";
}

void cleanup_run(const std::string& dir, const std::string& tag) {
  kill_run_processes(dir);
  remove_cgroups(std::string("/") + kRunPrefix + tag);
  for (const auto& ns : lines_of(dir + "/netns.list")) {
    ::umount2(ns.c_str(), MNT_DETACH);
    ::unlink(ns.c_str());
  }
  unmount_under(dir);
  for (const auto& br : lines_of(dir + "/bridges.list")) quiet("ip link del " + br);
  // Shim sockets of containerd 1.6 live under /run/containerd/s, named by a
  // hash; the list has the ones this run's shims opened.
  for (const auto& s : lines_of(dir + "/shim-sockets.list")) ::unlink(s.c_str());
  // The shims make these; rmdir leaves them when anything else is in them.
  ::rmdir("/run/containerd/s");
  ::rmdir("/run/containerd");
  // A rootless crius's user (its processes, home and runtime dir), /dev/net/tun's mode.
  cleanup_bench_users(dir);
  // Directories outside the run dir: the test registry's, crius's state.
  for (const auto& d : lines_of(dir + "/dirs.list")) {
    if (d.rfind("/tmp/crius-", 0) != 0 && d.rfind("/run/c", 0) != 0) continue;
    kill_run_processes(d);
    unmount_under(d);
    std::error_code ec;
    fs::remove_all(d, ec);
  }
}

void cleanup_leftovers() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/tmp", ec)) {
    const std::string name = e.path().filename();
    if (name.rfind(kRunPrefix, 0) != 0 || name.size() != std::strlen(kRunPrefix) + 6) continue;
    const auto owner = lines_of(e.path() / "owner");
    if (!owner.empty() && alive(static_cast<pid_t>(std::stol(owner[0])))) continue;  // a run in progress
    std::fprintf(stderr, "cleaning up the leftovers of a crashed run in %s\n", e.path().c_str());
    cleanup_run(e.path(), name.substr(name.size() - 6));
    std::error_code ec2;
    fs::remove_all(e.path(), ec2);
  }
}

// ---- network ----

Network::Network(const RunDir& run, const std::string& br)
    : bridge(br), subnet_prefix(free_subnet_prefix()), ipam_dir(run / ("ipam-" + br)) {
  run.note("bridges.list", bridge);
  fs::create_directories(ipam_dir);
}

Network::~Network() { quiet("ip link del " + bridge); }

std::string Network::conflist(const std::string& name, bool ipam_data_dir) const {
  return R"({"cniVersion":"1.0.0","name":")" + name + R"(","plugins":[{"type":"bridge","bridge":")" + bridge +
         R"(","isGateway":true,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":")" + subnet_prefix +
         R"(0/24"}]])" + (ipam_data_dir ? R"(,"dataDir":")" + ipam_dir + R"(")" : std::string()) +
         R"(}},{"type":"portmap","capabilities":{"portMappings":true}}]})";
}

// ---- daemons ----

CriDaemon::CriDaemon(std::string name, std::string dir, std::string socket, std::string logs_dir)
    : name_(std::move(name)), dir_(std::move(dir)), socket_(std::move(socket)), logs_dir_(std::move(logs_dir)) {}

CriDaemon::~CriDaemon() {
  try {
    shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stopping %s: %s\n", name_.c_str(), e.what());
  }
}

std::string CriDaemon::log_tail(size_t bytes) const {
  std::string l = slurp(dir_ + "/daemon.log");
  return l.size() > bytes ? l.substr(l.size() - bytes) : l;
}

std::string CriDaemon::pod_logs_dir(const std::string& pod) const {
  const std::string dir = logs_dir_ + "/" + pod;
  fs::create_directories(dir);
  if (as_ && ::chown(dir.c_str(), as_->uid, as_->gid) != 0)
    throw std::runtime_error("chown " + dir + ": " + std::strerror(errno));
  return dir;
}

void CriDaemon::spawn(const std::vector<std::string>& args, const std::optional<RunAs>& as) {
  const std::string log = dir_ + "/daemon.log";
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Made before fork: the child of a threaded process must not allocate.
  std::vector<std::string> env;
  if (as) env = {"HOME=" + as->home, "XDG_RUNTIME_DIR=" + as->runtime_dir, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  as_ = as;
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork for " + name_ + ": " + std::strerror(errno));
  if (pid_ == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Opened as root: the log is ours, in the run dir, whoever the daemon runs as.
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (as && (::setgroups(0, nullptr) != 0 || ::setgid(as->gid) != 0 || ::setuid(as->uid) != 0 ||
               ::chdir(as->home.c_str()) != 0))
      ::_exit(126);
    // Dies with the benchmark, so that a crashed run leaves no daemon behind
    // (set after setuid, which clears it).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (as) ::execve(argv[0], argv.data(), envp.data());
    else ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

void CriDaemon::wait_ready(std::chrono::seconds timeout, const std::string& ready_line) {
  channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
  runtime_ = v1::RuntimeService::NewStub(channel_);
  image_ = v1::ImageService::NewStub(channel_);
  bool serving = ready_line.empty();
  for (auto until = Clock::now() + timeout; Clock::now() < until; std::this_thread::sleep_for(50ms)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(name_ + " exited while starting; its log:\n" + log_tail());
    }
    if (!serving && !(serving = slurp(dir_ + "/daemon.log").find(ready_line) != std::string::npos)) continue;
    v1::StatusRequest req;
    v1::StatusResponse res;
    if (fs::exists(socket_) && runtime_->Status(deadline(1s).get(), req, &res).ok()) {
      // Only these two: a rootless crius also reports ResourceLimitsEnforced=false.
      bool ready = true;
      for (const auto& c : res.status().conditions())
        if (c.type() == "RuntimeReady" || c.type() == "NetworkReady") ready = ready && c.status();
      if (ready) return;
    }
  }
  throw std::runtime_error(name_ + " did not report RuntimeReady and NetworkReady in time; its log:\n" + log_tail());
}

void CriDaemon::shutdown() {
  if (pid_ <= 0) return;
  if (runtime_) {
    v1::ListPodSandboxRequest lreq;
    v1::ListPodSandboxResponse lres;
    if (runtime_->ListPodSandbox(deadline(10s).get(), lreq, &lres).ok()) {
      for (const auto& p : lres.items()) {
        v1::ListContainersRequest creq;
        creq.mutable_filter()->set_pod_sandbox_id(p.id());
        v1::ListContainersResponse cres;
        if (runtime_->ListContainers(deadline(10s).get(), creq, &cres).ok()) {
          for (const auto& c : cres.containers()) {
            v1::StopContainerRequest s;
            s.set_container_id(c.id());
            v1::StopContainerResponse sr;
            runtime_->StopContainer(deadline(30s).get(), s, &sr);
            v1::RemoveContainerRequest r;
            r.set_container_id(c.id());
            v1::RemoveContainerResponse rr;
            runtime_->RemoveContainer(deadline(30s).get(), r, &rr);
          }
        }
        v1::StopPodSandboxRequest s;
        s.set_pod_sandbox_id(p.id());
        v1::StopPodSandboxResponse sr;
        runtime_->StopPodSandbox(deadline(30s).get(), s, &sr);
        v1::RemovePodSandboxRequest r;
        r.set_pod_sandbox_id(p.id());
        v1::RemovePodSandboxResponse rr;
        runtime_->RemovePodSandbox(deadline(30s).get(), r, &rr);
      }
    }
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  bool done = false;
  for (auto until = Clock::now() + 10s; !done && Clock::now() < until;) {
    done = ::waitpid(pid_, &status, WNOHANG) == pid_;
    if (!done) std::this_thread::sleep_for(20ms);
  }
  if (!done) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

namespace {

bool names_any(const std::string& root, const std::vector<std::string>& digests) {
  std::vector<std::string> hexes;
  for (const auto& d : digests) hexes.push_back(d.substr(d.find(':') + 1));
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string n = it->path().filename();
    for (const auto& h : hexes)
      if (n.find(h) != std::string::npos) return true;
    // Layer contents are deep; blob and layer names are near the top.
    if (it.depth() >= 4) it.disable_recursion_pending();
  }
  return false;
}

size_t dirs_in(const std::string& dir, const std::string& skip_prefix = "") {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename();
    if (e.is_directory(ec) && name != "l" && (skip_prefix.empty() || name.rfind(skip_prefix, 0) != 0)) ++n;
  }
  return n;
}

bool wait_gone(const std::string& root, const std::vector<std::string>& digests, std::chrono::seconds timeout) {
  for (auto until = Clock::now() + timeout; Clock::now() < until;) {
    if (!names_any(root, digests)) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

class Containerd : public CriDaemon {
 public:
  Containerd(const RunDir& run, const Network& net, const ContainerdOptions& o)
      : CriDaemon("containerd", run / "containerd", run / "containerd/containerd.sock", run / "containerd-logs") {
    fs::create_directories(dir_ + "/cni");
    write_text(dir_ + "/cni/10-bench.conflist", net.conflist("bench-containerd"));
    write_text(dir_ + "/config.toml", config(run, o));
    spawn({o.binary, "--config", dir_ + "/config.toml", "--log-level", "warn"});
    wait_ready(60s);
  }

  std::vector<pid_t> pod_processes() const override {
    std::vector<pid_t> out;
    const std::string address = "-address " + socket_ + " ";
    for (pid_t pid : all_pids())
      if (comm_of(pid).rfind("containerd-shim", 0) == 0 && (cmdline_of(pid) + " ").find(address) != std::string::npos)
        out.push_back(pid);
    return out;
  }

  bool content_gone(const std::vector<std::string>& digests, std::chrono::seconds timeout) const override {
    return wait_gone(dir_ + "/root/io.containerd.content.v1.content", digests, timeout);
  }

  size_t layer_count() const override { return dirs_in(dir_ + "/root/io.containerd.snapshotter.v1.overlayfs/snapshots"); }

 private:
  std::string config(const RunDir& run, const ContainerdOptions& o) const {
    const std::string cri = R"([plugins."io.containerd.grpc.v1.cri"])";
    std::ostringstream t;
    t << "version = 2\n"
      << "root = \"" << dir_ << "/root\"\n"
      << "state = \"" << dir_ << "/state\"\n"
      << "oom_score = 0\n"
      // Only the CRI, its services, overlayfs and the runc v2 shim are used (the
      // v1 linux runtime stays: 1.6's tasks service, which the CRI needs, requires it).
      << "disabled_plugins = [\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", "
         "\"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\", "
         "\"io.containerd.snapshotter.v1.native\", \"io.containerd.internal.v1.opt\", "
         "\"io.containerd.tracing.processor.v1.otlp\", \"io.containerd.internal.v1.tracing\"]\n\n"
      << "[grpc]\n  address = \"" << socket_ << "\"\n\n"
      << "[ttrpc]\n  address = \"" << socket_ << ".ttrpc\"\n\n"
      << "[debug]\n  address = \"\"\n  level = \"warn\"\n\n"
      << "[metrics]\n  address = \"\"\n\n"
      << cri << "\n"
      << "  sandbox_image = \"" << o.sandbox_image << "\"\n"
      << "  systemd_cgroup = false\n"
      // Lowering oom_score_adj is not permitted here: clamp as crius does.
      << "  restrict_oom_score_adj = true\n"
      << "  disable_apparmor = true\n"
      << "  stream_server_address = \"127.0.0.1\"\n"
      << "  stream_server_port = \"0\"\n"
      << "  enable_selinux = false\n\n"
      << R"([plugins."io.containerd.grpc.v1.cri".containerd])" << "\n"
      << "  snapshotter = \"overlayfs\"\n"
      << "  default_runtime_name = \"runc\"\n\n"
      << R"([plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc])" << "\n"
      << "  runtime_type = \"io.containerd.runc.v2\"\n\n"
      << R"([plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options])" << "\n"
      << "  BinaryName = \"" << o.runc << "\"\n"
      << "  Root = \"" << dir_ << "/runc\"\n"
      << "  SystemdCgroup = false\n\n"
      << R"([plugins."io.containerd.grpc.v1.cri".cni])" << "\n"
      << "  bin_dir = \"" << o.cni_bin_dir << "\"\n"
      << "  conf_dir = \"" << dir_ << "/cni\"\n"
      << "  max_conf_num = 1\n\n";
    for (const auto& r : o.registries)
      t << R"([plugins."io.containerd.grpc.v1.cri".registry.mirrors.")" << r << "\"]\n"
        << "  endpoint = [\"http://" << r << "\"]\n\n";
    (void)run;
    return t.str();
  }
};

class Crius : public CriDaemon {
 public:
  // The state dir is short and outside the run dir: crius puts each pod's
  // monitor socket at <state>/sandboxes/<64 hex>/monitor/monitor.sock, which
  // must fit in sun_path (107 bytes), so <state> may have 11 characters.
  Crius(const RunDir& run, const Network& net, const CriusOptions& o)
      : CriDaemon("crius", run / "crius", "/run/c" + run.tag().substr(0, 5) + "/crius.sock", run / "crius-logs"),
        state_("/run/c" + run.tag().substr(0, 5)),
        root_(dir_ + "/root") {
    run.note("dirs.list", state_);
    fs::create_directories(state_);
    fs::create_directories(dir_ + "/cni");
    write_text(dir_ + "/cni/10-bench.conflist", net.conflist("bench-crius"));
    write_text(dir_ + "/crius.yaml", "log_level: warn\n");
    spawn({o.binary, "--config", dir_ + "/crius.yaml", "--root", root_, "--state", state_, "--cgroup-driver",
           "cgroupfs", "--network-cni-config-dir", dir_ + "/cni", "--network-cni-plugin-dirs", o.cni_bin_dirs,
           "--metrics-enabled", "false"});
    wait_ready(60s);
  }

  // Rootless: the user's XDG places, and its config in its home. Only its
  // log is in the run dir (opened by us before the daemon becomes the user).
  Crius(const RunDir& run, const Network& net, const CriusOptions& o, const RunAs& as)
      : CriDaemon("crius-rootless", run / "crius-rootless", as.runtime_dir + "/crius/crius.sock", as.home + "/logs"),
        state_(as.runtime_dir + "/crius"),
        root_(as.home + "/.local/share/crius") {
    const std::string conf = as.home + "/bench";
    fs::create_directories(dir_);
    // The network is the private one behind slirp4netns: its leases are the daemon's to keep.
    write_text(conf + "/cni/10-bench.conflist", net.conflist("bench-crius-rootless", false));
    // Info, not warn: "crius is serving the CRI" is an info line.
    write_text(conf + "/crius.yaml", "log_level: info\nimage:\n  registries: [{prefix: \"" + o.registry +
                                         "\", insecure: true}]\n");
    fs::create_directories(logs_dir_);
    for (const auto& p : {conf, conf + "/cni", conf + "/cni/10-bench.conflist", conf + "/crius.yaml", logs_dir_})
      if (::chown(p.c_str(), as.uid, as.gid) != 0) throw std::runtime_error("chown " + p + ": " + std::strerror(errno));
    spawn({o.binary, "--config", conf + "/crius.yaml", "--network-cni-config-dir", conf + "/cni",
           "--network-cni-plugin-dirs", o.cni_bin_dirs, "--metrics-address",
           "127.0.0.1:" + std::to_string(fixtures::free_loopback_port())},
          as);
    wait_ready(120s, "crius is serving the CRI");
  }

  std::vector<pid_t> pod_processes() const override {
    std::vector<pid_t> out;
    for (pid_t pid : all_pids())
      if (comm_of(pid).rfind("crius-monitor", 0) == 0 &&
          (belongs_to(pid, dir_) || belongs_to(pid, state_) || (as_ && belongs_to(pid, root_))))
        out.push_back(pid);
    return out;
  }

  bool content_gone(const std::vector<std::string>& digests, std::chrono::seconds timeout) const override {
    return wait_gone(root_, digests, timeout);
  }

  size_t layer_count() const override { return dirs_in(root_ + "/images/layers", "tmp-"); }

  std::vector<std::string> dirs() const override {
    if (as_) return {dir_, state_, root_};
    return {dir_, state_};  // the root is in dir_
  }

 private:
  std::string state_, root_;
};

}  // namespace

std::unique_ptr<CriDaemon> start_containerd(const RunDir& run, const Network& net, const ContainerdOptions& o) {
  return std::make_unique<Containerd>(run, net, o);
}

std::string containerd_config(const CriDaemon& d) { return slurp(d.dir() + "/config.toml"); }

std::unique_ptr<CriDaemon> start_crius(const RunDir& run, const Network& net, const CriusOptions& o) {
  if (o.user) return std::make_unique<Crius>(run, net, o, *o.user);
  return std::make_unique<Crius>(run, net, o);
}

Memory memory_of(pid_t pid) {
  Memory m;
  auto field = [](const std::string& path, const std::string& key) -> long {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
    return 0;
  };
  m.rss_kb = field("/proc/" + std::to_string(pid) + "/status", "VmRSS:");
  m.pss_kb = field("/proc/" + std::to_string(pid) + "/smaps_rollup", "Pss:");
  return m;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (pid_t pid : all_pids()) {
    // The ppid is the 4th field of stat, after "(comm)" which may hold spaces.
    std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto close = s.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(s.substr(close + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(pid);
  }
  return out;
}

int open_fds(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

int threads_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

void note_pod_outside_run(const RunDir& run, const CriDaemon& d, const v1::PodSandboxStatusResponse& status) {
  const std::string& pod_id = status.status().id();
  if (d.name() != "containerd" || pod_id.empty()) return;
  if (!status.info().count("info")) return;
  try {
    auto info = nlohmann::json::parse(status.info().at("info"));
    for (const auto& ns : info.at("runtimeSpec").at("linux").at("namespaces"))
      if (ns.value("type", "") == "network" && ns.contains("path")) run.note("netns.list", ns["path"]);
  } catch (const std::exception&) {
  }
  // The shim's socket is named by the sha256 of <address>/<namespace>/<pod id>.
  const std::string sock =
      "/run/containerd/s/" + fixtures::sha256_of(d.dir() + "/containerd.sock/k8s.io/" + pod_id).substr(7);
  if (fs::exists(sock)) run.note("shim-sockets.list", sock);
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

BaseImages push_base_images(fixtures::Registry& reg, const std::string& pause_binary) {
  namespace fx = crius::fixtures;
  BaseImages im;
  fx::TarEntry pause;
  pause.path = "pause";
  pause.mode = 0755;
  std::ifstream in(pause_binary, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  pause.data = ss.str();
  if (pause.data.empty()) throw std::runtime_error("cannot read " + pause_binary);
  fx::ImageConfig pc;
  pc.entrypoint = {"/pause"};
  fx::push_image(reg, "bench/pause", "1", {fx::make_layer({pause}, fx::Compression::gzip)}, pc);
  im.pause = reg.host() + "/bench/pause:1";
  fx::ImageConfig bc;
  bc.cmd = {"sh"};
  fx::push_image(reg, "bench/busybox", "1", {fx::busybox_layer(fx::Compression::gzip)}, bc);
  im.busybox = reg.host() + "/bench/busybox:1";
  return im;
}

}  // namespace crius::bench
