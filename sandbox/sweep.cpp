// What a crash in the middle of RunPodSandbox leaves: a run directory (with
// /dev/shm mounted in it, and the pod cgroup's dirs listed in it), pinned
// namespaces (with crius-pause as PID 1 of a shared PID namespace), and a
// CNI attachment (taken by Cni::gc, before this runs, while the netns pin
// still exists for its DEL). All of them are named by the pod's ID, which
// has no record: the record is written last. sweep() releases them.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mount.h"
#include "base/mountinfo.h"
#include "base/strings.h"
#include "sandbox/cgroup.h"
#include "sandbox/namespaces.h"
#include "sandbox/sandboxes.h"

namespace crius::sandbox {
namespace fs = std::filesystem;

namespace {

// SIGKILL to every process in the PID namespace pinned at `pin`: its
// crius-pause (PID 1, which takes the rest with it) and anything else.
void kill_pid_namespace(const std::string& pin) {
  struct stat ns {};
  if (::stat(pin.c_str(), &ns) != 0) return;
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const std::string name = p.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    struct stat st {};
    if (::stat((p.path() / "ns/pid").c_str(), &st) != 0) continue;
    if (st.st_dev == ns.st_dev && st.st_ino == ns.st_ino) ::kill(std::stoi(name), SIGKILL);
  }
}

// Unmounts everything at or under `dir`, deepest first.
void unmount_under(const std::string& dir) {
  std::vector<std::string> points;
  for (const auto& m : read_mountinfo())
    if (m.mount_point == dir || m.mount_point.starts_with(dir + "/")) points.push_back(m.mount_point);
  std::sort(points.rbegin(), points.rend());
  for (const auto& p : points) detach_mount(p);
}

void sweep_one(const std::string& what, const std::string& path, const std::function<void()>& release) {
  try {
    release();
    log::info("released what a crash left of a pod sandbox without a record", {{"what", what}, {"path", path}});
  } catch (const std::exception& e) {
    log::warn("releasing what a crash left of a pod sandbox", {{"what", what}, {"path", path}, {"error", e.what()}});
  }
}

}  // namespace

void Sandboxes::sweep() {
  std::set<std::string> known;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : sandboxes_) known.insert(id);
  }
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(ns_root_, ec)) {
    const std::string id = d.path().filename();
    if (known.count(id)) continue;
    sweep_one("pinned namespaces", d.path(), [&] {
      kill_pid_namespace(d.path() / "pid");
      std::map<std::string, std::string> pins;
      for (const auto& f : fs::directory_iterator(d.path())) pins[f.path().filename()] = f.path();
      unpin_all(pins, d.path());
    });
  }
  for (const auto& d : fs::directory_iterator(run_root_, ec)) {
    const std::string id = d.path().filename();
    if (known.count(id)) continue;
    sweep_one("run directory", d.path(), [&] {
      unmount_under(d.path());
      if (auto listed = read_file_if_exists(d.path() / kCgroupsFile)) {
        std::vector<std::string> dirs;
        for (auto& line : split(*listed, '\n'))
          if (!line.empty()) dirs.push_back(line);
        if (const std::string problems = remove_cgroup_dirs(dirs); !problems.empty()) throw Internal(problems);
      }
      remove_all(d.path());
    });
  }
}

}  // namespace crius::sandbox
