#include "tests/bench/cri/pull_files.h"

#include "tests/bench/cri/figure.h"
#include "tests/bench/cri/harness.h"
//
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::bench {
namespace fs = std::filesystem;
namespace fx = crius::fixtures;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string find_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  throw std::runtime_error(name + " not found in PATH");
}

// Forks and execs argv[0] (an absolute path) with stdin/stdout on these fds
// (-1: the bench's own). Every fd the bench opens is close-on-exec.
pid_t spawn(const std::vector<std::string>& args, int in_fd, int out_fd) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(sys_error("fork for " + args[0]));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (in_fd >= 0) ::dup2(in_fd, 0);
    if (out_fd >= 0) ::dup2(out_fd, 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for a child: its exit code (128+signal when killed), with its CPU
// (and that of the children it waited for) in ru.
int wait_child(pid_t pid, rusage* ru = nullptr) {
  int status = 0;
  rusage dummy{};
  while (::wait4(pid, &status, 0, ru ? ru : &dummy) < 0)
    if (errno != EINTR) throw std::runtime_error(sys_error("wait4"));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double tv(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(const void* p, size_t n) { EVP_DigestUpdate(ctx_.get(), p, n); }
  std::string digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    std::string s = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
      s += "0123456789abcdef"[md[i] >> 4];
      s += "0123456789abcdef"[md[i] & 15];
    }
    return s;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

// Counts the members of a tar stream fed in pieces: every header but GNU
// long-name/long-link and pax extended ones, which describe the next member.
class TarCounter {
 public:
  void feed(const char* p, size_t n) {
    while (n > 0) {
      if (skip_ > 0) {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(skip_, n));
        skip_ -= k, p += k, n -= k;
        continue;
      }
      const size_t k = std::min(n, sizeof header_ - fill_);
      std::memcpy(header_ + fill_, p, k);
      fill_ += k, p += k, n -= k;
      if (fill_ < sizeof header_) continue;
      fill_ = 0;
      if (std::all_of(header_, header_ + sizeof header_, [](char c) { return c == 0; })) continue;  // end blocks
      const uint64_t size = field_size();
      skip_ = (size + 511) / 512 * 512;
      const char type = header_[156];
      if (type != 'L' && type != 'K' && type != 'x' && type != 'g') ++entries;
    }
  }
  uint64_t entries = 0;

 private:
  uint64_t field_size() const {
    const auto* f = reinterpret_cast<const unsigned char*>(header_ + 124);
    uint64_t v = 0;
    if (f[0] & 0x80) {  // base-256
      v = f[0] & 0x7f;
      for (int i = 1; i < 12; ++i) v = v << 8 | f[i];
      return v;
    }
    for (int i = 0; i < 12; ++i)
      if (f[i] >= '0' && f[i] <= '7') v = v * 8 + (f[i] - '0');
      else if (f[i] != ' ' || v) break;
    return v;
  }
  char header_[512]{};
  size_t fill_ = 0;
  uint64_t skip_ = 0;
};

struct Built {
  std::string blob, digest, diff_id;
  uint64_t gz_bytes = 0, tar_bytes = 0, entries = 0;
  double seconds = 0;
};

// tar -C / -cf - <tree> | (sha256, count) | gzip -6 -n > blob; then the blob's sha256.
Built build_layer(const std::string& tree, const std::string& blob) {
  // SIGPIPE of a write to a gzip that died: an EPIPE here, not the end of the bench.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  const auto t0 = Clock::now();
  Built b;
  b.blob = blob;
  int tp[2], gp[2];
  if (::pipe2(tp, O_CLOEXEC) != 0 || ::pipe2(gp, O_CLOEXEC) != 0) throw std::runtime_error(sys_error("pipe2"));
  Fd tar_r(tp[0]), tar_w(tp[1]), gz_r(gp[0]), gz_w(gp[1]);
  Fd out(::open(blob.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (out.fd < 0) throw std::runtime_error(sys_error("creating " + blob));
  const pid_t tar = spawn({find_tool("tar"), "-C", "/", "-cf", "-", tree.substr(1)}, -1, tar_w.fd);
  const pid_t gz = spawn({find_tool("gzip"), "-6", "-n", "-c"}, gz_r.fd, out.fd);
  tar_w.reset();
  gz_r.reset();
  out.reset();
  Sha256 diff;
  TarCounter count;
  std::vector<char> buf(1 << 20);
  std::string failure;
  for (;;) {
    const ssize_t n = ::read(tar_r.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = sys_error("reading tar's output");
    if (n <= 0) break;
    diff.update(buf.data(), static_cast<size_t>(n));
    count.feed(buf.data(), static_cast<size_t>(n));
    b.tar_bytes += static_cast<uint64_t>(n);
    for (ssize_t off = 0; off < n && failure.empty();) {
      const ssize_t w = ::write(gz_w.fd, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) failure = sys_error("writing to gzip");
      else off += w;
    }
    if (!failure.empty()) break;
  }
  tar_r.reset();
  gz_w.reset();
  const int tar_rc = wait_child(tar), gz_rc = wait_child(gz);
  if (!failure.empty()) throw std::runtime_error("layer of " + tree + ": " + failure);
  // tar exits 1 when a file changed while it read it: the stream is still whole.
  if (tar_rc > 1) throw std::runtime_error("tar of " + tree + " exited " + std::to_string(tar_rc));
  if (tar_rc == 1) std::fprintf(stderr, "note: tar of %s exited 1 (a file changed as it was read)\n", tree.c_str());
  if (gz_rc != 0) throw std::runtime_error("gzip of " + tree + " exited " + std::to_string(gz_rc));
  b.diff_id = diff.digest();
  b.entries = count.entries;
  Sha256 dg;
  Fd in(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) throw std::runtime_error(sys_error("opening " + blob));
  for (ssize_t n; (n = ::read(in.fd, buf.data(), buf.size())) > 0;) {
    dg.update(buf.data(), static_cast<size_t>(n));
    b.gz_bytes += static_cast<uint64_t>(n);
  }
  b.digest = dg.digest();
  b.seconds = secs(Clock::now() - t0);
  return b;
}

// ---- CPU of a daemon and everything it starts ----

// Moves the daemon into a cgroup of its own (cgroup v1 cpuacct, else the v2
// hierarchy), so that its CPU counts every process it starts from then on,
// whether they are still alive or not; back to where it was at the end. When
// neither can be had: the daemon's and its live descendants' utime/stime and
// cutime/cstime from /proc (exited helpers that nobody in the tree waited for
// are missed).
class DaemonCpu {
 public:
  struct Cpu {
    double user = 0, sys = 0;
  };

  DaemonCpu(const RunDir& run, const CriDaemon& d) : pid_(d.pid()) {
    const std::string leaf = run.cgroup_root() + "/daemon-" + d.name();
    std::string mount, own;
    // v1: the hierarchy with cpuacct (alone, or with cpu).
    for (const char* m : {"/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct"})
      if (fs::exists(std::string(m) + "/cpuacct.stat")) {
        mount = m;
        own = own_cgroup([](const std::string& ctl) {
          std::stringstream ss(ctl);
          for (std::string c; std::getline(ss, c, ',');)
            if (c == "cpuacct") return true;
          return false;
        });
        kind_ = v1;
        break;
      }
    if (kind_ != v1)
      for (const char* m : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
        if (fs::exists(std::string(m) + "/cgroup.controllers")) {
          mount = m;
          own = own_cgroup([](const std::string& ctl) { return ctl.empty(); }, true);
          kind_ = v2;
          break;
        }
    if (kind_ != proc && !own.empty()) {
      std::error_code ec;
      dir_ = mount + leaf;
      back_ = mount + (own == "/" ? "" : own);
      fs::create_directories(dir_, ec);
      if (!ec && write_pid(dir_)) {
        how_ = kind_ == v1 ? "a cgroup v1 cpuacct group of its own (cpuacct.stat), " + dir_
                           : "a cgroup v2 group of its own (cpu.stat), " + dir_;
        return;
      }
    }
    kind_ = proc;
    how_ = "/proc: utime+cutime, stime+cstime of the daemon and its live descendants (no cgroup could be made)";
  }

  ~DaemonCpu() {
    if (kind_ == proc) return;
    write_pid(back_);
    ::rmdir(dir_.c_str());  // fails while a process it started lives on there: the run's cleanup removes it
  }
  DaemonCpu(const DaemonCpu&) = delete;
  DaemonCpu& operator=(const DaemonCpu&) = delete;

  const std::string& how() const { return how_; }

  Cpu read() const {
    Cpu c;
    if (kind_ == v1) {
      // USER_HZ ticks, split as getrusage splits a process's time.
      const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
      std::ifstream in(dir_ + "/cpuacct.stat");
      std::string key;
      for (double v; in >> key >> v;) {
        if (key == "user") c.user = v / hz;
        if (key == "system") c.sys = v / hz;
      }
    } else if (kind_ == v2) {
      std::ifstream in(dir_ + "/cpu.stat");
      std::string key;
      for (double v; in >> key >> v;) {
        if (key == "user_usec") c.user = v / 1e6;
        if (key == "system_usec") c.sys = v / 1e6;
      }
    } else {
      const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
      std::map<pid_t, std::vector<pid_t>> kids;
      std::map<pid_t, std::array<double, 4>> times;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string n = e.path().filename();
        if (n.empty() || !std::all_of(n.begin(), n.end(), ::isdigit)) continue;
        std::ifstream in(e.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(in)), {});
        const auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream f(text.substr(close + 2));
        std::string field;
        std::array<double, 4> t{};
        long ppid = 0;
        for (int i = 3; i <= 17 && f >> field; ++i) {
          if (i == 4) ppid = std::stol(field);
          if (i >= 14) t[static_cast<size_t>(i - 14)] = std::stod(field) / hz;
        }
        const auto pid = static_cast<pid_t>(std::stol(n));
        kids[static_cast<pid_t>(ppid)].push_back(pid);
        times[pid] = t;
      }
      std::vector<pid_t> todo{pid_};
      while (!todo.empty()) {
        const pid_t p = todo.back();
        todo.pop_back();
        if (auto it = times.find(p); it != times.end()) {
          c.user += it->second[0] + it->second[2];
          c.sys += it->second[1] + it->second[3];
        }
        for (pid_t k : kids[p]) todo.push_back(k);
      }
    }
    return c;
  }

 private:
  template <class Match>
  std::string own_cgroup(Match match, bool unified = false) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/cgroup");
    for (std::string line; std::getline(in, line);) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      if (unified && line.compare(0, a, "0") != 0) continue;
      if (match(line.substr(a + 1, b - a - 1))) return line.substr(b + 1);
    }
    return "";
  }
  bool write_pid(const std::string& dir) const {
    std::ofstream out(dir + "/cgroup.procs");
    out << pid_ << "\n";
    out.flush();
    return static_cast<bool>(out);
  }
  enum Kind { v1, v2, proc };
  pid_t pid_;
  Kind kind_ = proc;
  std::string dir_, back_, how_;
};

// ---- page cache ----

// 0, or the errno of the write to drop_caches.
int drop_caches() {
  ::sync();
  const int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = ::write(fd, "3\n", 2) == 2 ? 0 : errno;
  ::close(fd);
  return err;
}

// ---- the figure ----

struct Sample {
  double wall = 0, user = 0, sys = 0;
};

struct Row {
  std::string name;
  std::vector<Sample> v;
  int failed = 0;
  std::string last_error;
  void fail(const std::string& e) {
    ++failed;
    last_error = e;
  }
};

double med(const Row& r, double Sample::*f) {
  std::vector<double> x;
  for (const auto& s : r.v) x.push_back(s.*f);
  return percentile(x, 50);
}

void print_rows(const FilesImage& im, const std::vector<Row>& rows) {
  std::printf("  %-11s %8s %8s %8s %8s %8s %8s %8s %3s\n", "", "median", "min", "user", "sys", "MB/s", "MB/s",
              "files/s", "");
  std::printf("  %-11s %8s %8s %8s %8s %8s %8s %8s %3s\n", "", "wall s", "wall s", "CPU s", "CPU s", "gz", "tar",
              "", "n");
  for (const auto& r : rows) {
    if (r.v.empty()) {
      std::printf("  %-11s %8s %8s %8s %8s %8s %8s %8s %3d", r.name.c_str(), "-", "-", "-", "-", "-", "-", "-", 0);
    } else {
      const double w = med(r, &Sample::wall);
      double mn = r.v[0].wall;
      for (const auto& s : r.v) mn = std::min(mn, s.wall);
      std::printf("  %-11s %8.2f %8.2f %8.2f %8.2f %8.1f %8.1f %8.0f %3zu", r.name.c_str(), w, mn,
                  med(r, &Sample::user), med(r, &Sample::sys), static_cast<double>(im.gz_bytes) / 1e6 / w,
                  static_cast<double>(im.tar_bytes) / 1e6 / w, static_cast<double>(im.entries) / w, r.v.size());
    }
    if (r.failed) std::printf("  failed %d (last: %s)", r.failed, r.last_error.c_str());
    std::printf("\n");
  }
  auto ratio = [&](size_t a, size_t b) {
    if (rows[a].v.empty() || rows[b].v.empty()) return;
    std::printf("  ratio %s/%s (median wall): %.2f\n", rows[a].name.c_str(), rows[b].name.c_str(),
                med(rows[a], &Sample::wall) / med(rows[b], &Sample::wall));
  };
  ratio(0, 1);
  ratio(0, 2);
  ratio(1, 2);
  std::printf("\n");
  std::fflush(stdout);
}

std::string mib(uint64_t b) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  return s;
}

}  // namespace

// As figure 1 waits.
std::string make_cold(CriDaemon& d, const FilesImage& im, size_t layers_before) {
  if (image_present(d, im.ref)) {
    auto s = remove_image(d, im.ref, 300s);
    if (!s.ok()) return "RemoveImage: " + s.error_message();
  }
  std::vector<std::string> gone = im.digests;
  gone.insert(gone.end(), im.diff_ids.begin(), im.diff_ids.end());
  if (!d.content_gone(gone, 300s)) return "cold store: the image's blobs are still on disk after 300 s";
  for (auto until = Clock::now() + 300s; d.layer_count() > layers_before; std::this_thread::sleep_for(100ms))
    if (Clock::now() > until) return "cold store: the image's layers are still on disk after 300 s";
  return "";
}

void read_through(const std::vector<std::string>& files) {
  std::vector<char> buf(1 << 20);
  for (const auto& f : files) {
    Fd in(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
    while (in.fd >= 0 && ::read(in.fd, buf.data(), buf.size()) > 0) {
    }
  }
}

std::vector<std::string> default_files_trees() {
  std::vector<std::string> out;
  for (const char* t : {"/usr/include", "/usr/bin", "/usr/lib/gcc"}) {
    if (fs::is_directory(t)) {
      out.push_back(t);
      continue;
    }
    for (const char* alt : {"/usr/share", "/usr/lib", "/usr/sbin"})
      if (fs::is_directory(alt) && std::find(out.begin(), out.end(), alt) == out.end()) {
        std::fprintf(stderr, "note: no %s here; its layer is made of %s\n", t, alt);
        out.push_back(alt);
        break;
      }
  }
  return out;
}

FilesImage push_files_image(const RunDir& run, fx::Registry& reg, const std::vector<std::string>& trees) {
  FilesImage im;
  for (const auto& t : trees) {
    std::error_code ec;
    const std::string c = fs::canonical(t, ec).string();
    if (ec || !fs::is_directory(c) || c == "/") throw std::runtime_error("--files-trees: " + t + " is not a directory");
    im.trees.push_back(c);
  }
  if (im.trees.empty()) throw std::runtime_error("pull-files: no tree to make layers of");
  fs::create_directories(run / "files-blobs");
  std::fprintf(stderr, "pull-files: making %zu gzip -6 layers (tar | gzip, all at once)...\n", im.trees.size());
  std::vector<Built> built(im.trees.size());
  std::vector<std::exception_ptr> errors(im.trees.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < im.trees.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        built[i] = build_layer(im.trees[i], run / ("files-blobs/layer-" + std::to_string(i) + ".tar.gz"));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  const std::string repo = "bench/files";
  nlohmann::json diff_ids = nlohmann::json::array(), layers = nlohmann::json::array();
  for (size_t i = 0; i < built.size(); ++i) {
    const Built& b = built[i];
    std::fprintf(stderr, "  layer %zu: %s: %s gz, %s tar, %llu entries (made in %.1f s)\n", i, im.trees[i].c_str(),
                 mib(b.gz_bytes).c_str(), mib(b.tar_bytes).c_str(), static_cast<unsigned long long>(b.entries),
                 b.seconds);
    reg.push_blob_file(repo, b.blob, b.digest);
    im.blobs.push_back(b.blob);
    im.registry_blobs.push_back(reg.blob_file(b.digest));
    im.digests.push_back(b.digest);
    im.diff_ids.push_back(b.diff_id);
    im.gz_bytes_of.push_back(b.gz_bytes);
    im.tar_bytes_of.push_back(b.tar_bytes);
    im.entries_of.push_back(b.entries);
    im.gz_bytes += b.gz_bytes;
    im.tar_bytes += b.tar_bytes;
    im.entries += b.entries;
    diff_ids.push_back(b.diff_id);
    layers.push_back(
        {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", b.digest}, {"size", b.gz_bytes}});
  }
  const std::string config = nlohmann::json{{"architecture", fx::host_arch()},
                                            {"os", "linux"},
                                            {"created", "2026-01-01T00:00:00Z"},
                                            {"config", {{"Cmd", {"sh"}}}},
                                            {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                                 .dump();
  reg.push_blob(repo, config);
  const std::string manifest =
      nlohmann::json{{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", fx::sha256_of(config)},
                       {"size", config.size()}}},
                     {"layers", layers}}
          .dump();
  reg.push_manifest(repo, "1", "application/vnd.oci.image.manifest.v1+json", manifest);
  im.ref = reg.host() + "/" + repo + ":1";
  return im;
}

void figure_pull_files(const RunDir& run, const std::vector<CriDaemon*>& ds, const FilesImage& im, int n,
                       const std::set<std::string>& variants) {
  std::string trees;
  for (const auto& t : im.trees) trees += (trees.empty() ? "" : ", ") + t;
  std::printf("11. cold pull of an image of this machine's files: %zu gzip -6 layers (%s), %s compressed, %s of tar "
              "and %llu entries unpacked\n",
              im.trees.size(), trees.c_str(), mib(im.gz_bytes).c_str(), mib(im.tar_bytes).c_str(),
              static_cast<unsigned long long>(im.entries));
  std::printf("    layers:");
  for (size_t i = 0; i < im.trees.size(); ++i)
    std::printf("%s %s %s gz / %s / %llu", i ? ";" : "", im.trees[i].c_str(), mib(im.gz_bytes_of[i]).c_str(),
                mib(im.tar_bytes_of[i]).c_str(), static_cast<unsigned long long>(im.entries_of[i]));
  std::printf("\n    each run: PullImage of the removed image (its blobs and layers gone from disk), after sync;\n"
              "    floors: tar -xzf of the blobs one after the other into an empty directory beside the daemons' roots,\n"
              "    and gzip -dc of them > /dev/null (CPU from wait4, children included). MB = 10^6 bytes.\n");
  std::vector<std::unique_ptr<DaemonCpu>> cpus;
  for (CriDaemon* d : ds) {
    cpus.push_back(std::make_unique<DaemonCpu>(run, *d));
    std::printf("    %s CPU: %s\n", d->name().c_str(), cpus.back()->how().c_str());
  }
  std::fflush(stdout);
  std::map<std::string, size_t> layers_before;
  for (CriDaemon* d : ds) {
    layers_before[d->name()] = d->layer_count();
    if (auto e = make_cold(*d, im, layers_before[d->name()]); !e.empty())
      std::fprintf(stderr, "note: %s: %s\n", d->name().c_str(), e.c_str());
  }
  const std::string gzip = find_tool("gzip"), tar = find_tool("tar");
  const std::string floor_dir = run / "files-floor";
  int variant_no = 0;
  for (const char* variant_name : {"warm", "dropped"}) {
    const std::string variant = variant_name;
    if (!variants.count(variant)) continue;
    const bool drop = variant == "dropped";
    const std::string label = std::string(1, static_cast<char>('a' + variant_no++));
    if (drop) {
      if (const int err = drop_caches(); err != 0) {
        std::printf("11%s. page cache dropped: NOT RUN: writing 3 to /proc/sys/vm/drop_caches failed: %s\n\n",
                    label.c_str(), std::strerror(err));
        std::fflush(stdout);
        continue;
      }
    }
    std::vector<Row> rows{{"crius", {}, 0, {}}, {"containerd", {}, 0, {}}, {"tar -xzf", {}, 0, {}},
                          {"gzip -dc", {}, 0, {}}};
    // Before each run: its writes and the last run's deletions on disk, then
    // the cache as the variant wants it.
    auto prepare = [&] {
      if (drop) {
        if (const int err = drop_caches(); err != 0)
          throw std::runtime_error(std::string("drop_caches failed mid-figure: ") + std::strerror(err));
      } else {
        ::sync();
        read_through(im.registry_blobs);
        read_through(im.blobs);
      }
    };
    for (int i = 0; i < n; ++i) {
      std::fprintf(stderr, "pull-files: %s page cache, iteration %d/%d\n", variant.c_str(), i + 1, n);
      for (size_t k = 0; k < rows.size(); ++k) {
        const size_t who = (static_cast<size_t>(i) + k) % rows.size();
        Row& row = rows[who];
        if (who < ds.size()) {
          CriDaemon& d = *ds[who];
          // Rows 0 and 1 are crius and containerd, whatever the order of ds.
          Row& r = d.name() == "crius" ? rows[0] : rows[1];
          if (auto e = make_cold(d, im, layers_before[d.name()]); !e.empty()) {
            r.fail(e);
            continue;
          }
          prepare();
          const DaemonCpu& cpu = *cpus[who];
          const auto c0 = cpu.read();
          const auto t0 = Clock::now();
          auto s = pull(d, im.ref, nullptr, 1800s);
          const auto t1 = Clock::now();
          const auto c1 = cpu.read();
          if (!s.ok()) r.fail("PullImage: " + s.error_message());
          else r.v.push_back({secs(t1 - t0), c1.user - c0.user, c1.sys - c0.sys});
          if (auto e = make_cold(d, im, layers_before[d.name()]); !e.empty())
            std::fprintf(stderr, "note: %s after its pull: %s\n", d.name().c_str(), e.c_str());
        } else if (row.name == "tar -xzf") {
          std::error_code ec;
          fs::remove_all(floor_dir, ec);
          fs::create_directories(floor_dir);
          prepare();
          Sample s;
          std::string err;
          const auto t0 = Clock::now();
          for (const auto& b : im.blobs) {
            rusage ru{};
            const int rc = wait_child(spawn({tar, "-xzf", b, "-C", floor_dir}, -1, -1), &ru);
            s.user += tv(ru.ru_utime);
            s.sys += tv(ru.ru_stime);
            if (rc != 0) err = "tar -xzf " + b + " exited " + std::to_string(rc);
          }
          s.wall = secs(Clock::now() - t0);
          if (err.empty()) row.v.push_back(s);
          else row.fail(err);
          fs::remove_all(floor_dir, ec);
        } else {
          prepare();
          std::vector<std::string> args{gzip, "-dc"};
          args.insert(args.end(), im.blobs.begin(), im.blobs.end());
          Fd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
          rusage ru{};
          const auto t0 = Clock::now();
          const int rc = wait_child(spawn(args, -1, null.fd), &ru);
          const double wall = secs(Clock::now() - t0);
          if (rc != 0) row.fail("gzip -dc exited " + std::to_string(rc));
          else row.v.push_back({wall, tv(ru.ru_utime), tv(ru.ru_stime)});
        }
      }
    }
    std::printf("11%s. page cache %s before each run%s, %d iteration%s, who goes first alternating\n",
                label.c_str(), drop ? "dropped (sync; echo 3 > /proc/sys/vm/drop_caches)" : "warm",
                drop ? "" : " (the registry's and the floors' blobs read through first)", n, n == 1 ? "" : "s");
    print_rows(im, rows);
  }
}

}  // namespace crius::bench
