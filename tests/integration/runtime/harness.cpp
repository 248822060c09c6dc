#include "tests/integration/runtime/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/spawn.h"
#include "tests/fixtures/rootfs/rootfs.h"
#include "tests/support/eventually.h"

namespace crius::testing::rt {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string read_fd_all(int fd) {
  std::string text;
  char buf[8192];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return text;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Octal escapes (\040 for a space) in mountinfo fields.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool okd = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') okd = false;
        v = v * 8 + (c - '0');
      }
      if (okd) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- processes

std::string Result::describe() const {
  std::ostringstream o;
  for (const auto& a : argv) o << a << ' ';
  if (timed_out)
    o << "→ timed out";
  else if (term_signal)
    o << "→ killed by signal " << term_signal;
  else
    o << "→ exit " << exit_code;
  o << "\n  stdout: " << out << "\n  stderr: " << err;
  return o.str();
}

Result spawn(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  Result r;
  r.argv = argv;
  Fd out(::memfd_create("stdout", MFD_CLOEXEC)), err(::memfd_create("stderr", MFD_CLOEXEC));
  Fd in(::memfd_create("stdin", MFD_CLOEXEC));
  if (out.fd < 0 || err.fd < 0 || in.fd < 0) throw std::runtime_error(errno_text("memfd_create"));
  if (!opts.stdin_data.empty() && ::pwrite(in.fd, opts.stdin_data.data(), opts.stdin_data.size(), 0) !=
                                      static_cast<ssize_t>(opts.stdin_data.size()))
    throw std::runtime_error(errno_text("writing stdin memfd"));

  // Spawned, not forked, as a shell would: the harness's own fork would be
  // timed with every command of a benchmark.
  crius::SpawnOptions so;
  so.args = argv;
  so.fds = {{in.fd, 0}, {out.fd, 1}, {err.fd, 2}};
  for (size_t i = 0; i < opts.pass_fds.size(); ++i) so.fds.emplace_back(opts.pass_fds[i], static_cast<int>(3 + i));
  so.cwd = opts.cwd.string();
  const crius::Spawned child = crius::spawn(so);
  if (child.pid < 0) {
    r.exit_code = 127;
    r.err = "exec " + argv.front() + ": " + std::strerror(child.error);
    return r;
  }
  const pid_t pid = child.pid;

  Fd pfd(pidfd_open(pid));
  int status = 0;
  if (pfd.fd >= 0) {
    // While the command runs, the other children that die are reaped: a
    // process exec'd into a container is our child (CLONE_PARENT, or we are
    // its subreaper), and a `delete --force` waits for the container's init,
    // which cannot finish dying while such a zombie of its pid namespace is
    // left unreaped. Without this, a delete racing that zombie hung for its
    // full 10 s and left the container's state behind.
    const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
    struct pollfd p = {pfd.fd, POLLIN, 0};
    for (;;) {
      const int rc = ::poll(&p, 1, 20);
      if (rc > 0) break;
      int other;
      pid_t w;
      bool ours = false;
      while ((w = ::waitpid(-1, &other, WNOHANG)) > 0) {
        if (w == pid) {
          status = other;
          ours = true;
          break;
        }
      }
      if (ours) goto reaped;
      if (std::chrono::steady_clock::now() > deadline) {
        r.timed_out = true;
        ::kill(pid, SIGKILL);
        break;
      }
    }
  } else {
    // No pidfd (old kernel): poll waitpid.
    auto deadline = std::chrono::steady_clock::now() + opts.timeout;
    for (;;) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) goto reaped;
      if (std::chrono::steady_clock::now() > deadline) {
        r.timed_out = true;
        ::kill(pid, SIGKILL);
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
reaped:
  if (!r.timed_out) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  }
  r.out = read_fd_all(out.fd);
  r.err = read_fd_all(err.fd);
  return r;
}

// ---------------------------------------------------------------- host setup

std::string prepare_host() {
  std::string note;
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) note += errno_text("PR_SET_CHILD_SUBREAPER") + "; ";
  const char* controllers = "/sys/fs/cgroup/unified/cgroup.controllers";
  if (trim(read_file(controllers)).empty()) return note;
  if (::unshare(CLONE_NEWNS) != 0) return note + errno_text("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return note + errno_text("making / rslave");
  if (::mount("/dev/null", controllers, nullptr, MS_BIND, nullptr) != 0)
    return note + errno_text(std::string("bind /dev/null over ") + controllers);
  return note + "hybrid cgroup host: running in a private mount namespace with " + controllers +
         " hidden (crun refuses hybrid mode when cgroup2 has controllers)";
}

void reap_zombies() {
  int status;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}

namespace {
// State letter and parent pid from /proc/<pid>/stat ('\0' if gone).
char proc_state(pid_t pid, pid_t* ppid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '\0';
  std::istringstream rest(stat.substr(close + 2));
  char state = '\0';
  pid_t pp = 0;
  rest >> state >> pp;
  if (ppid) *ppid = pp;
  return state;
}
}  // namespace

std::vector<pid_t> live_children() {
  std::vector<pid_t> kids;
  DIR* d = ::opendir("/proc");
  if (!d) return kids;
  while (auto* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end || pid <= 0) continue;
    pid_t ppid = 0;
    char st = proc_state(static_cast<pid_t>(pid), &ppid);
    if (st && st != 'Z' && st != 'X' && ppid == ::getpid()) kids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return kids;
}

bool pid_alive(pid_t pid) {
  if (pid <= 0) return false;
  int status;
  ::waitpid(pid, &status, WNOHANG);  // reap it if it is our zombie
  char st = proc_state(pid, nullptr);
  return st != '\0' && st != 'Z' && st != 'X';
}

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  return eventually([&] { return !pid_alive(pid); }, timeout);
}

// ---------------------------------------------------------------- files

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("writing " + p.string());
}

bool wait_for_file(const fs::path& p, std::chrono::milliseconds timeout, bool non_empty) {
  return eventually(
      [&] {
        std::error_code ec;
        return fs::exists(p, ec) && (!non_empty || fs::file_size(p, ec) > 0);
      },
      timeout);
}

std::string proc_status_field(pid_t pid, const std::string& key) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return trim(line.substr(key.size() + 1));
  }
  return "";
}

ino_t ns_inode(pid_t pid, const std::string& type) {
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid) + "/ns/" + type).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

bool wait_for_comm(pid_t pid, const std::string& comm, std::chrono::milliseconds timeout) {
  return eventually([&] { return trim(read_file("/proc/" + std::to_string(pid) + "/comm")) == comm; }, timeout);
}

bool MountEntry::has_option(const std::string& opt) const {
  for (const std::string* list : {&mount_options, &super_options}) {
    std::istringstream in(*list);
    std::string o;
    while (std::getline(in, o, ','))
      if (o == opt) return true;
  }
  return false;
}

std::vector<MountEntry> mountinfo(pid_t pid) {
  std::string path = pid == 0 ? "/proc/self/mountinfo" : "/proc/" + std::to_string(pid) + "/mountinfo";
  std::istringstream in(read_file(path));
  std::vector<MountEntry> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno;
    MountEntry m;
    f >> id >> parent >> devno >> m.root >> m.mount_point >> m.mount_options;
    std::string tok;
    while (f >> tok && tok != "-") m.optional_fields += (m.optional_fields.empty() ? "" : " ") + tok;
    f >> m.fstype >> m.source >> m.super_options;
    m.root = unescape(m.root);
    m.mount_point = unescape(m.mount_point);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> mounts_under(const fs::path& dir) {
  std::vector<std::string> found;
  const std::string prefix = dir.string();
  for (const auto& m : mountinfo(0)) {
    if (m.mount_point == prefix || m.mount_point.rfind(prefix + "/", 0) == 0) found.push_back(m.mount_point);
  }
  return found;
}

uint64_t cap_mask(const std::vector<std::string>& names) {
  static const std::map<std::string, int> bits = {{"CAP_CHOWN", 0},
                                                  {"CAP_DAC_OVERRIDE", 1},
                                                  {"CAP_DAC_READ_SEARCH", 2},
                                                  {"CAP_FOWNER", 3},
                                                  {"CAP_FSETID", 4},
                                                  {"CAP_KILL", 5},
                                                  {"CAP_SETGID", 6},
                                                  {"CAP_SETUID", 7},
                                                  {"CAP_SETPCAP", 8},
                                                  {"CAP_LINUX_IMMUTABLE", 9},
                                                  {"CAP_NET_BIND_SERVICE", 10},
                                                  {"CAP_NET_BROADCAST", 11},
                                                  {"CAP_NET_ADMIN", 12},
                                                  {"CAP_NET_RAW", 13},
                                                  {"CAP_IPC_LOCK", 14},
                                                  {"CAP_IPC_OWNER", 15},
                                                  {"CAP_SYS_MODULE", 16},
                                                  {"CAP_SYS_RAWIO", 17},
                                                  {"CAP_SYS_CHROOT", 18},
                                                  {"CAP_SYS_PTRACE", 19},
                                                  {"CAP_SYS_PACCT", 20},
                                                  {"CAP_SYS_ADMIN", 21},
                                                  {"CAP_SYS_BOOT", 22},
                                                  {"CAP_SYS_NICE", 23},
                                                  {"CAP_SYS_RESOURCE", 24},
                                                  {"CAP_SYS_TIME", 25},
                                                  {"CAP_SYS_TTY_CONFIG", 26},
                                                  {"CAP_MKNOD", 27},
                                                  {"CAP_LEASE", 28},
                                                  {"CAP_AUDIT_WRITE", 29},
                                                  {"CAP_AUDIT_CONTROL", 30},
                                                  {"CAP_SETFCAP", 31},
                                                  {"CAP_MAC_OVERRIDE", 32},
                                                  {"CAP_MAC_ADMIN", 33},
                                                  {"CAP_SYSLOG", 34},
                                                  {"CAP_WAKE_ALARM", 35},
                                                  {"CAP_BLOCK_SUSPEND", 36},
                                                  {"CAP_AUDIT_READ", 37},
                                                  {"CAP_PERFMON", 38},
                                                  {"CAP_BPF", 39},
                                                  {"CAP_CHECKPOINT_RESTORE", 40}};
  uint64_t mask = 0;
  for (const auto& n : names) mask |= uint64_t{1} << bits.at(n);
  return mask;
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error(errno_text("mkdtemp " + tmpl));
  path_ = tmpl;
  // Traversable by other users: a container in a user namespace runs as a
  // mapped uid that must still reach its rootfs.
  fs::permissions(path_, fs::perms(0755));
}

TempDir::~TempDir() {
  auto left = mounts_under(path_);
  std::sort(left.rbegin(), left.rend());  // deepest first
  for (const auto& m : left) ::umount2(m.c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

HostMount::HostMount(const std::string& source, const fs::path& target, const std::string& fstype, unsigned long flags,
                     const std::string& data)
    : target_(target) {
  if (::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    throw std::runtime_error(errno_text("mount " + source + " on " + target.string()));
}

HostMount::~HostMount() { ::umount2(target_.c_str(), MNT_DETACH); }

void HostMount::set_propagation(unsigned long type) {
  if (::mount(nullptr, target_.c_str(), nullptr, type, nullptr) != 0)
    throw std::runtime_error(errno_text("changing propagation of " + target_.string()));
}

NetNs::NetNs() : name_(unique_id("crius-rt-netns")) {
  auto r = spawn({"/usr/sbin/ip", "netns", "add", name_});
  if (!r.ok()) throw std::runtime_error("ip netns add failed: " + r.describe());
}

NetNs::~NetNs() { spawn({"/usr/sbin/ip", "netns", "delete", name_}); }

// ---------------------------------------------------------------- bundles

nlohmann::json default_spec() {
  using nlohmann::json;
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return json{{"ociVersion", "1.0.2-dev"},
              {"process",
               {{"terminal", true},
                {"user", {{"uid", 0}, {"gid", 0}}},
                {"args", {"sh"}},
                {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
                {"cwd", "/"},
                {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
                {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
                {"noNewPrivileges", true}}},
              {"root", {{"path", "rootfs"}, {"readonly", true}}},
              {"hostname", "runc"},
              {"mounts",
               {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                {{"destination", "/dev"},
                 {"type", "tmpfs"},
                 {"source", "tmpfs"},
                 {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
                {{"destination", "/dev/pts"},
                 {"type", "devpts"},
                 {"source", "devpts"},
                 {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
                {{"destination", "/dev/shm"},
                 {"type", "tmpfs"},
                 {"source", "shm"},
                 {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
                {{"destination", "/dev/mqueue"},
                 {"type", "mqueue"},
                 {"source", "mqueue"},
                 {"options", {"nosuid", "noexec", "nodev"}}},
                {{"destination", "/sys"},
                 {"type", "sysfs"},
                 {"source", "sysfs"},
                 {"options", {"nosuid", "noexec", "nodev", "ro"}}},
                {{"destination", "/sys/fs/cgroup"},
                 {"type", "cgroup"},
                 {"source", "cgroup"},
                 {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
              {"linux",
               {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
                {"namespaces",
                 {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}},
                {"maskedPaths",
                 {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
                {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
}

Bundle::Bundle(const fs::path& dir) : spec(default_spec()), dir_(dir) {
  fs::create_directories(dir_);
  crius::fixtures::make_busybox_rootfs(rootfs().string());
  // Test baseline: output goes to the harness, the rootfs is writable so that
  // the process can leave marker files in it.
  spec["process"]["terminal"] = false;
  spec["root"]["readonly"] = false;
  spec["hostname"] = "crius-test";
}

void Bundle::args(const std::vector<std::string>& argv) { spec["process"]["args"] = argv; }

void Bundle::sh(const std::string& script) { args({"sh", "-c", script}); }

void Bundle::add_mount(const std::string& dest, const std::string& type, const std::string& source,
                       const std::vector<std::string>& options) {
  nlohmann::json m = {{"destination", dest}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = options;
  spec["mounts"].push_back(m);
}

namespace {
// Erases the entries of a JSON array whose `key` equals value.
void erase_where(nlohmann::json& array, const char* key, const std::string& value) {
  for (auto it = array.begin(); it != array.end();) {
    if ((*it)[key] == value)
      it = array.erase(it);
    else
      ++it;
  }
}
}  // namespace

void Bundle::remove_namespace(const std::string& type) { erase_where(spec["linux"]["namespaces"], "type", type); }

void Bundle::remove_mount(const std::string& destination) { erase_where(spec["mounts"], "destination", destination); }

void Bundle::add_namespace(const std::string& type, const std::string& path) {
  remove_namespace(type);
  nlohmann::json n = {{"type", type}};
  if (!path.empty()) n["path"] = path;
  spec["linux"]["namespaces"].push_back(n);
}

void Bundle::write() const { write_file(dir_ / "config.json", spec.dump(2)); }

// ---------------------------------------------------------------- runtime

Runtime::Runtime(std::string name, std::string binary, fs::path root, std::vector<std::string> global)
    : name_(std::move(name)), binary_(std::move(binary)), root_(std::move(root)), global_(std::move(global)) {}

Result Runtime::cmd(const std::vector<std::string>& args, const SpawnOptions& opts,
                    const std::vector<std::string>& global) const {
  std::vector<std::string> argv = {binary_, "--root", root_.string()};
  argv.insert(argv.end(), global_.begin(), global_.end());
  argv.insert(argv.end(), global.begin(), global.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, opts);
}

// Flags go before the container id: runc's command line parser stops at the
// first positional argument.
Result Runtime::create(const std::string& id, const Bundle& b, const std::vector<std::string>& flags,
                       const SpawnOptions& opts) const {
  b.write();
  std::vector<std::string> args = {"create", "--bundle", b.dir().string()};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back(id);
  return cmd(args, opts);
}

Result Runtime::start(const std::string& id) const { return cmd({"start", id}); }
Result Runtime::state(const std::string& id) const { return cmd({"state", id}); }

Result Runtime::kill(const std::string& id, const std::string& signal, bool all) const {
  std::vector<std::string> args = {"kill"};
  if (all) args.push_back("--all");
  args.push_back(id);
  if (!signal.empty()) args.push_back(signal);
  return cmd(args);
}

Result Runtime::del(const std::string& id, bool force) const {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(id);
  return cmd(args);
}

Result Runtime::run(const std::string& id, const Bundle& b, std::chrono::milliseconds timeout) const {
  b.write();
  SpawnOptions o;
  o.timeout = timeout;
  return cmd({"run", "--bundle", b.dir().string(), id}, o);
}

Result Runtime::list() const { return cmd({"list"}); }

Result Runtime::spec(const fs::path& dir) const {
  SpawnOptions o;
  o.cwd = dir;
  return cmd({"spec"}, o);
}

Result Runtime::features() const { return cmd({"features"}); }

nlohmann::json Runtime::state_json(const std::string& id) const {
  auto r = state(id);
  if (!r.ok()) throw std::runtime_error("state failed: " + r.describe());
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("state output is not JSON (") + e.what() + "): " + r.describe());
  }
}

std::string Runtime::status(const std::string& id) const {
  auto r = state(id);
  if (!r.ok()) return "";
  try {
    return nlohmann::json::parse(r.out).value("status", "");
  } catch (...) {
    return "";
  }
}

bool Runtime::wait_status(const std::string& id, const std::string& want, std::chrono::milliseconds timeout) const {
  return eventually([&] { return status(id) == want; }, timeout);
}

Container::~Container() {
  pid_t p = pid_ > 0 ? pid_ : -1;
  rt_.del(id_, true);
  if (p > 0) wait_gone(p, 5s);
}

Result Container::create(const Bundle& b, const std::vector<std::string>& flags) {
  auto r = rt_.create(id_, b, flags);
  if (r.ok()) pid_ = pid();
  return r;
}

pid_t Container::launch(const Bundle& b, const std::string& comm, std::string* error) {
  auto r = create(b);
  if (!r.ok()) {
    if (error) *error = r.describe();
    return -1;
  }
  auto s = rt_.start(id_);
  if (!s.ok()) {
    if (error) *error = s.describe();
    return -1;
  }
  if (!wait_for_comm(pid_, comm)) {
    if (error)
      *error = "process " + std::to_string(pid_) + " did not exec " + comm + " (comm is " +
               trim(read_file("/proc/" + std::to_string(pid_) + "/comm")) + ")";
    return -1;
  }
  return pid_;
}

pid_t Container::pid() const {
  try {
    return rt_.state_json(id_).value("pid", -1);
  } catch (...) {
    return -1;
  }
}

std::string unique_id(const std::string& hint) {
  static std::atomic<int> counter{0};
  return hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace crius::testing::rt
