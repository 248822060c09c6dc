#include "oci/cgroups/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <set>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/user_namespace.h"
#include "base/wait.h"
#include "oci/cgroups/devices.h"
#include "oci/cgroups/join.h"

namespace crius::oci::cgroups {
namespace {

using namespace std::chrono_literals;

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A cgroup file's content without its newline; "" when it cannot be read
// (the controller is not there, or the cgroup is going away).
std::string read_value(const std::string& path) { return trim(read_file_or_empty(path)); }

std::set<std::string> word_set(const std::string& path) {
  const auto w = words(read_file_or_empty(path));
  return {w.begin(), w.end()};
}

std::string parent_dir(const std::string& p) {
  auto pos = p.find_last_of('/');
  return pos == std::string::npos || pos == 0 ? "/" : p.substr(0, pos);
}

// Every directory of the cgroup once (controllers may share a mount).
std::vector<std::string> unique_dirs(const Paths& p) {
  std::vector<std::string> out;
  if (!p.unified.empty()) out.push_back(p.unified);
  for (const auto& [c, d] : p.v1)
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  return out;
}

std::vector<pid_t> read_procs(const std::string& dir) {
  std::vector<pid_t> out;
  for (const auto& w : words(read_file_or_empty(dir + "/cgroup.procs"))) {
    pid_t v = 0;
    if (std::from_chars(w.data(), w.data() + w.size(), v).ec == std::errc()) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// On a v2 host the parent must delegate a controller before a child can
// use it. Only the controllers the parent has, one by one so that one the
// kernel refuses does not keep the others off.
void enable_controllers(const std::string& parent) {
  const auto available = word_set(parent + "/cgroup.controllers");
  const auto enabled = word_set(parent + "/cgroup.subtree_control");
  for (const char* c : {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}) {
    if (!available.count(c) || enabled.count(c)) continue;
    try {
      write_cgroup_file(parent, "cgroup.subtree_control", std::string("+") + c);
    } catch (const std::exception& e) {
      log::debug(std::string("cgroups: cannot enable ") + c + " in " + parent + ": " + e.what());
    }
  }
}

// v1 cpuset: a new cgroup starts with no cpus and no mems, which refuses
// every task; give it the parent's.
void init_cpuset(const std::string& dir) {
  for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
    if (!read_value(dir + "/" + f).empty()) continue;
    const std::string v = read_value(parent_dir(dir) + "/" + f);
    if (!v.empty()) write_cgroup_file(dir, f, v);
  }
}

// Creates the missing directories top-down; returns them in that order.
std::vector<std::string> mkdirs(const std::string& dir) {
  std::vector<std::string> missing;
  for (std::string d = dir; d != "/" && !is_dir(d); d = parent_dir(d)) missing.push_back(d);
  std::reverse(missing.begin(), missing.end());
  for (const auto& d : missing)
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("cgroups: create " + d);
  return missing;
}

// rmdir of dir and the cgroups below it (processes inside a container may
// have made some), deepest first. Returns 0 or rmdir's errno.
int remove_tree(const std::string& dir) {
  if (auto d = Dir::open_if_exists(dir)) {
    std::vector<std::string> subs;
    while (const dirent* e = d->next())
      if (e->d_type == DT_DIR) subs.push_back(dir + "/" + e->d_name);
    for (const auto& s : subs) remove_tree(s);
  }
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
  return errno;
}

bool less_than(const std::string& a, const std::string& b) {
  long long x = 0, y = 0;
  const bool ok = std::from_chars(a.data(), a.data() + a.size(), x).ec == std::errc() &&
                  std::from_chars(b.data(), b.data() + b.size(), y).ec == std::errc();
  return ok && x < y;
}

}  // namespace

void write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value) {
  const std::string path = dir + "/" + file;
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT)
      throw FailedPrecondition("cgroups: " + path + " does not exist (controller not available or not enabled)");
    throw Internal(errno_text("cgroups: open " + path, err));
  }
  if (::write(fd.get(), value.data(), value.size()) == static_cast<ssize_t>(value.size())) return;
  int err = errno;
  const std::string msg = errno_text("cgroups: write \"" + value + "\" to " + path, err);
  if (err == EINVAL || err == ERANGE || err == EOVERFLOW) throw InvalidArgument(msg);
  if (err == EBUSY) throw FailedPrecondition(msg);
  throw Internal(msg);
}

std::string Cgroup::dir_for(const std::string& controller) const {
  if (controller.empty()) return paths_.unified;
  auto it = paths_.v1.find(controller);
  if (it != paths_.v1.end()) return it->second;
  return "";
}

void Cgroup::create(const Resources*) {
  if (paths_.empty()) throw FailedPrecondition("cgroups: no cgroup hierarchy is mounted");
  for (const auto& d : unique_dirs(paths_)) {
    const bool v2dir = d == paths_.unified;
    const auto made = mkdirs(d);
    if (v2dir && paths_.mode == Mode::v2) {
      // The first existing ancestor delegates to the first new level, and
      // so on down to the container's own directory.
      if (!made.empty()) enable_controllers(parent_dir(made.front()));
      for (size_t i = 0; i + 1 < made.size(); ++i) enable_controllers(made[i]);
    }
  }
  auto cs = paths_.v1.find("cpuset");
  if (cs != paths_.v1.end()) {
    // Top-down from the first level that may be new: each takes its parent's.
    std::vector<std::string> chain;
    for (std::string d = cs->second; d.size() > 1 && is_file(d + "/cpuset.cpus"); d = parent_dir(d)) {
      chain.push_back(d);
      if (!read_value(d + "/cpuset.cpus").empty() && !read_value(d + "/cpuset.mems").empty()) break;
    }
    std::reverse(chain.begin(), chain.end());
    for (const auto& d : chain) init_cpuset(d);
  }
}

bool Cgroup::exists() const {
  for (const auto& d : unique_dirs(paths_))
    if (is_dir(d)) return true;
  return false;
}

void Cgroup::add(pid_t pid) const {
  const std::string v = std::to_string(pid);
  for (const auto& d : unique_dirs(paths_)) write_cgroup_file(d, "cgroup.procs", v);
}

void Cgroup::apply(const Resources& r, bool update) const {
  std::vector<std::string> warnings;
  // Device rules (v1's devices controller, v2's BPF program) are the host's
  // root's to set; in a user namespace, where device nodes cannot be made
  // anyway, they are left out, as runc's rootless mode does.
  const bool devices = (r.has_devices || !update) && !in_user_namespace();
  if (paths_.mode == Mode::v2) {
    const bool bfq = is_file(paths_.unified + "/io.bfq.weight");
    for (const auto& w : v2_writes(r, warnings, bfq)) {
      if (w.optional && !is_file(paths_.unified + "/" + w.file)) continue;
      write_cgroup_file(paths_.unified, w.file, w.value);
    }
    if (devices) attach_device_filter(paths_.unified, r.devices);
  } else {
    auto writes = v1_writes(r, warnings);
    if (devices) {
      if (paths_.v1.count("devices")) {
        auto dw = v1_device_writes(r.devices);
        writes.insert(writes.end(), dw.begin(), dw.end());
      } else {
        warnings.push_back("linux.resources.devices: no devices controller is mounted, device rules not enforced");
      }
    }
    // memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at
    // every step: when raising both, memsw goes first.
    auto lim = std::find_if(writes.begin(), writes.end(), [](const Write& w) { return w.file == "memory.limit_in_bytes"; });
    auto sw = std::find_if(writes.begin(), writes.end(), [](const Write& w) { return w.file == "memory.memsw.limit_in_bytes"; });
    if (lim != writes.end() && sw != writes.end() &&
        less_than(read_value(dir_for("memory") + "/memory.memsw.limit_in_bytes"), lim->value))
      std::iter_swap(lim, sw);
    for (const auto& w : writes) {
      std::string dir = dir_for(w.controller);
      // Hybrid hosts may have hugetlb (and others) only on cgroup2.
      if (dir.empty() && !paths_.unified.empty() && w.controller == "hugetlb") {
        write_cgroup_file(paths_.unified, "hugetlb." + w.file.substr(8, w.file.find(".limit_in_bytes") - 8) + ".max",
                          w.value);
        continue;
      }
      if (dir.empty())
        throw FailedPrecondition("cgroups: " + w.file + ": the " + w.controller + " controller is not mounted");
      write_cgroup_file(dir, w.file, w.value);
    }
  }
  for (const auto& m : warnings) log::warn(m);
}

void Cgroup::freeze() const {
  if (paths_.mode == Mode::v2) {
    write_cgroup_file(paths_.unified, "cgroup.freeze", "1");
  } else {
    if (dir_for("freezer").empty()) throw FailedPrecondition("cgroups: freeze: no freezer controller is mounted");
    write_cgroup_file(dir_for("freezer"), "freezer.state", "FROZEN");
  }
  const std::string dir = paths_.mode == Mode::v2 ? paths_.unified : dir_for("freezer");
  if (!wait_until([&] { return frozen(); }, 5s)) {
    // The timeout is what the caller hears of; a thaw that fails too is
    // logged, since the cgroup may now be stuck half frozen.
    try {
      thaw();
    } catch (const std::exception& e) {
      log::warn("cgroups: thawing " + dir + " after a freeze that timed out: " + e.what());
    }
    throw DeadlineExceeded("cgroups: the processes of " + dir + " did not freeze within 5s");
  }
}

void Cgroup::thaw() const {
  if (paths_.mode == Mode::v2)
    write_cgroup_file(paths_.unified, "cgroup.freeze", "0");
  else if (!dir_for("freezer").empty())
    write_cgroup_file(dir_for("freezer"), "freezer.state", "THAWED");
  else
    throw FailedPrecondition("cgroups: thaw: no freezer controller is mounted");
}

bool Cgroup::frozen() const {
  if (paths_.mode == Mode::v2) {
    // cgroup.events: "key value" lines.
    const auto w = words(read_file_or_empty(paths_.unified + "/cgroup.events"));
    for (size_t i = 0; i + 1 < w.size(); i += 2)
      if (w[i] == "frozen") return w[i + 1] == "1";
    return false;
  }
  return read_value(dir_for("freezer") + "/freezer.state") == "FROZEN";
}

std::vector<pid_t> Cgroup::pids() const {
  if (paths_.mode == Mode::v2) return read_procs(paths_.unified);
  for (const char* c : {"pids", "memory", "cpu", "freezer", "devices"})
    if (!dir_for(c).empty() && is_dir(dir_for(c))) return read_procs(dir_for(c));
  for (const auto& d : unique_dirs(paths_))
    if (is_dir(d)) return read_procs(d);
  return {};
}

void Cgroup::kill_all() const {
  if (!paths_.unified.empty() && is_file(paths_.unified + "/cgroup.kill")) {
    write_cgroup_file(paths_.unified, "cgroup.kill", "1");
    return;
  }
  // Without cgroup.kill, a frozen cgroup cannot fork while we look.
  bool froze = false;
  if (!dir_for("freezer").empty() || paths_.mode == Mode::v2) {
    try {
      freeze();
      froze = true;
    } catch (const std::exception& e) {
      // Killing unfrozen still ends every process listed now; one forked
      // meanwhile is what the caller's wait for an empty cgroup catches.
      log::warn(std::string("cgroups: killing without freezing first: ") + e.what());
    }
  }
  for (pid_t p : pids()) ::kill(p, SIGKILL);
  if (froze) thaw();
}

void Cgroup::destroy() const {
  std::string leftover;
  for (const auto& d : unique_dirs(paths_)) {
    int err = 0;
    wait_until([&] { return (err = remove_tree(d)) == 0 || err != EBUSY; }, 2s);
    if (err == 0) continue;
    const auto left = read_procs(d);
    if (err == EBUSY && !left.empty()) {
      std::string list;
      for (pid_t p : left) {
        if (!list.empty()) list += ' ';
        list += std::to_string(p);
      }
      leftover += (leftover.empty() ? "" : "; ") + d + " still has processes " + list;
    } else {
      leftover += (leftover.empty() ? "" : "; ") + errno_text("remove " + d, err);
    }
  }
  if (!leftover.empty()) throw FailedPrecondition("cgroups: " + leftover);
}

Enter::Enter(const Cgroup& cg) {
  const Hierarchy& h = Hierarchy::host();
  const Paths& p = cg.paths();
  if (!p.unified.empty()) v2_ = open_v2_dir(p.unified);
  if (p.v1.empty()) return;
  const auto own = proc_cgroup_paths("thread-self");
  std::vector<std::string> into;
  for (const auto& [c, d] : p.v1) {
    auto mp = h.v1.find(c);
    if (mp == h.v1.end()) continue;
    auto it = own.find(c);
    std::string b = mp->second + (it == own.end() || it->second == "/" ? "" : it->second);
    if (std::find(back_.begin(), back_.end(), b) != back_.end()) continue;
    back_.push_back(std::move(b));
    into.push_back(d);
  }
  for (size_t i = 0; i < into.size(); ++i) {
    try {
      move_thread(into[i]);
    } catch (...) {
      back_.resize(i);  // the destructor does not run: move back here
      leave();
      throw;
    }
  }
}

Enter::~Enter() { leave(); }

void Enter::leave() noexcept {
  for (const auto& d : back_) {
    try {
      move_thread(d);
    } catch (const std::exception& e) {
      log::warn(std::string("cgroups: moving the runtime back: ") + e.what());
    }
  }
}

}  // namespace crius::oci::cgroups
