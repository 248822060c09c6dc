#include "oci/cgroups/manager.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "conf/error.h"
#include "oci/cgroups/devices.h"
#include "oci/runtime/log.h"
#include "oci/runtime/sys.h"

namespace crius::oci::cgroups {
namespace {

using namespace std::chrono_literals;
namespace rtlog = runtime::rtlog;

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string read_or_empty(const std::string& p) {
  try {
    return runtime::read_file(p);
  } catch (const std::exception&) {
    return "";
  }
}

std::set<std::string> words(const std::string& s) {
  std::set<std::string> out;
  std::stringstream ss(s);
  std::string w;
  while (ss >> w) out.insert(w);
  return out;
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
  std::stringstream ss(read_or_empty(dir + "/cgroup.procs"));
  long v;
  while (ss >> v) out.push_back(static_cast<pid_t>(v));
  std::sort(out.begin(), out.end());
  return out;
}

// On a v2 host the parent must delegate a controller before a child can
// use it. Only the controllers the parent has, one by one so that one the
// kernel refuses does not keep the others off.
void enable_controllers(const std::string& parent) {
  const auto available = words(read_or_empty(parent + "/cgroup.controllers"));
  const auto enabled = words(read_or_empty(parent + "/cgroup.subtree_control"));
  for (const char* c : {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}) {
    if (!available.count(c) || enabled.count(c)) continue;
    try {
      write_cgroup_file(parent, "cgroup.subtree_control", std::string("+") + c);
    } catch (const std::exception& e) {
      rtlog::debug(std::string("cgroups: cannot enable ") + c + " in " + parent + ": " + e.what());
    }
  }
}

// v1 cpuset: a new cgroup starts with no cpus and no mems, which refuses
// every task; give it the parent's.
void init_cpuset(const std::string& dir) {
  for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
    if (!trim(read_or_empty(dir + "/" + f)).empty()) continue;
    const std::string v = trim(read_or_empty(parent_dir(dir) + "/" + f));
    if (!v.empty()) write_cgroup_file(dir, f, v);
  }
}

// Creates the missing directories top-down; returns them in that order.
std::vector<std::string> mkdirs(const std::string& dir) {
  std::vector<std::string> missing;
  for (std::string d = dir; d != "/" && !is_dir(d); d = parent_dir(d)) missing.push_back(d);
  std::reverse(missing.begin(), missing.end());
  for (const auto& d : missing)
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) runtime::throw_errno("cgroups: create " + d);
  return missing;
}

// rmdir of dir and the cgroups below it (processes inside a container may
// have made some), deepest first.
int remove_tree(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && e->d_type == DT_DIR) subs.push_back(dir + "/" + n);
    }
    ::closedir(d);
    for (const auto& s : subs) remove_tree(s);
  }
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
  return errno;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (auto step = 1ms;; step = std::min(step * 2, 50ms)) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace

void write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value) {
  const std::string path = dir + "/" + file;
  runtime::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
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

std::string Manager::dir_for(const std::string& controller) const {
  if (controller.empty()) return paths_.unified;
  auto it = paths_.v1.find(controller);
  if (it != paths_.v1.end()) return it->second;
  return "";
}

void Manager::create(const Resources*) {
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
      if (!trim(read_or_empty(d + "/cpuset.cpus")).empty() && !trim(read_or_empty(d + "/cpuset.mems")).empty()) break;
    }
    std::reverse(chain.begin(), chain.end());
    for (const auto& d : chain) init_cpuset(d);
  }
}

bool Manager::exists() const {
  for (const auto& d : unique_dirs(paths_))
    if (is_dir(d)) return true;
  return false;
}

void Manager::add(pid_t pid) const {
  const std::string v = std::to_string(pid);
  for (const auto& d : unique_dirs(paths_)) write_cgroup_file(d, "cgroup.procs", v);
}

void Manager::apply(const Resources& r, bool update) const {
  std::vector<std::string> warnings;
  if (paths_.mode == Mode::v2) {
    const bool bfq = is_file(paths_.unified + "/io.bfq.weight");
    for (const auto& w : v2_writes(r, warnings, bfq)) {
      if (w.optional && !is_file(paths_.unified + "/" + w.file)) continue;
      write_cgroup_file(paths_.unified, w.file, w.value);
    }
    if (r.has_devices || !update) attach_device_filter(paths_.unified, r.devices);
  } else {
    auto writes = v1_writes(r, warnings);
    if (r.has_devices || !update) {
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
    if (lim != writes.end() && sw != writes.end()) {
      const std::string cur = trim(read_or_empty(dir_for("memory") + "/memory.memsw.limit_in_bytes"));
      try {
        if (!cur.empty() && std::stoll(lim->value) > std::stoll(cur)) std::iter_swap(lim, sw);
      } catch (const std::exception&) {
      }
    }
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
  for (const auto& m : warnings) rtlog::warn(m);
}

void Manager::freeze() const {
  if (paths_.mode == Mode::v2) {
    write_cgroup_file(paths_.unified, "cgroup.freeze", "1");
  } else {
    if (dir_for("freezer").empty()) throw FailedPrecondition("cgroups: freeze: no freezer controller is mounted");
    write_cgroup_file(dir_for("freezer"), "freezer.state", "FROZEN");
  }
  if (!wait_until([&] { return frozen(); }, 5s)) {
    try {
      thaw();
    } catch (...) {
    }
    throw DeadlineExceeded("cgroups: the processes of " + (paths_.mode == Mode::v2 ? paths_.unified : dir_for("freezer")) +
                           " did not freeze within 5s");
  }
}

void Manager::thaw() const {
  if (paths_.mode == Mode::v2)
    write_cgroup_file(paths_.unified, "cgroup.freeze", "0");
  else if (!dir_for("freezer").empty())
    write_cgroup_file(dir_for("freezer"), "freezer.state", "THAWED");
  else
    throw FailedPrecondition("cgroups: thaw: no freezer controller is mounted");
}

bool Manager::frozen() const {
  if (paths_.mode == Mode::v2) {
    std::stringstream ss(read_or_empty(paths_.unified + "/cgroup.events"));
    std::string k, v;
    while (ss >> k >> v)
      if (k == "frozen") return v == "1";
    return false;
  }
  return trim(read_or_empty(dir_for("freezer") + "/freezer.state")) == "FROZEN";
}

std::vector<pid_t> Manager::pids() const {
  if (paths_.mode == Mode::v2) return read_procs(paths_.unified);
  for (const char* c : {"pids", "memory", "cpu", "freezer", "devices"})
    if (!dir_for(c).empty() && is_dir(dir_for(c))) return read_procs(dir_for(c));
  for (const auto& d : unique_dirs(paths_))
    if (is_dir(d)) return read_procs(d);
  return {};
}

void Manager::kill_all() const {
  if (!paths_.unified.empty() && is_file(paths_.unified + "/cgroup.kill")) {
    write_cgroup_file(paths_.unified, "cgroup.kill", "1");
    return;
  }
  // Without cgroup.kill, a frozen cgroup cannot fork while we look.
  bool froze = false;
  try {
    if (!dir_for("freezer").empty() || paths_.mode == Mode::v2) {
      freeze();
      froze = true;
    }
  } catch (const std::exception&) {
  }
  for (pid_t p : pids()) ::kill(p, SIGKILL);
  if (froze) thaw();
}

void Manager::destroy() const {
  std::string leftover;
  for (const auto& d : unique_dirs(paths_)) {
    int err = 0;
    wait_until([&] { return (err = remove_tree(d)) == 0 || err != EBUSY; }, 2s);
    if (err == 0) continue;
    const auto left = read_procs(d);
    if (err == EBUSY && !left.empty()) {
      std::string list;
      for (pid_t p : left) list += (list.empty() ? "" : " ") + std::to_string(p);
      leftover += (leftover.empty() ? "" : "; ") + d + " still has processes " + list;
    } else {
      leftover += (leftover.empty() ? "" : "; ") + errno_text("remove " + d, err);
    }
  }
  if (!leftover.empty()) throw FailedPrecondition("cgroups: " + leftover);
}

Enter::Enter(const Manager& m) {
  const Hierarchy& h = Hierarchy::host();
  const auto own = parse_proc_cgroup(runtime::read_file("/proc/self/cgroup"));
  const Paths& p = m.paths();
  auto own_dir = [&](const std::string& mount, const std::string& key) {
    auto it = own.find(key);
    return mount + (it == own.end() || it->second == "/" ? "" : it->second);
  };
  if (!p.unified.empty() && !h.unified.empty()) back_.push_back(own_dir(h.unified, ""));
  for (const auto& [c, d] : p.v1) {
    auto mp = h.v1.find(c);
    if (mp == h.v1.end()) continue;
    const std::string key = c;
    std::string b = own_dir(mp->second, key);
    if (std::find(back_.begin(), back_.end(), b) == back_.end()) back_.push_back(b);
  }
  m.add(0);
}

Enter::~Enter() {
  for (const auto& d : back_) {
    try {
      write_cgroup_file(d, "cgroup.procs", "0");
    } catch (const std::exception& e) {
      rtlog::warn(std::string("cgroups: moving the runtime back: ") + e.what());
    }
  }
}

}  // namespace crius::oci::cgroups
