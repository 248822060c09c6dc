// Containers whose monitor died. The monitor is the parent and subreaper of
// its pod's containers and holds their stdio; killed or crashed, it takes
// their exit statuses with it, but not the containers themselves. The
// daemon holds a pidfd on every monitor and learns of its end at once; it
// then adopts the monitor's containers: one still alive is watched through
// a pidfd on its init (its end is reported as an exit whose status is
// lost), and Stop and Remove drive the runtime directly (direct_runtime.h),
// so that they still work and leave nothing behind.
#include <csignal>

#include "base/error.h"
#include "base/log.h"
#include "base/wait.h"
#include "container/containers.h"
#include "container/direct_runtime.h"

namespace crius::container {
using namespace std::chrono_literals;

namespace {

// How long a SIGKILLed orphan may take to end before stop fails.
constexpr auto kOrphanKillGrace = 10s;

bool alive(RuntimeStatus s) {
  return s == RuntimeStatus::created || s == RuntimeStatus::running || s == RuntimeStatus::paused;
}

}  // namespace

oci::monitor::Handler Containers::runtime_of(const Record& rec) const {
  if (!rec.runtime.root.empty()) return rec.runtime;
  // A record from before the runtime was kept: the builtin under its handler's name.
  oci::monitor::Handler h;
  h.name = rec.handler.empty() ? "crius" : rec.handler;
  h.root = runtime_state_ + "/" + h.name;
  return h;
}

void Containers::watch_monitor(const std::string& dir, pid_t pid) {
  if (pid <= 0) return;
  {
    std::lock_guard lock(monitor_pids_mu_);
    pid_t& watched = monitor_pids_[dir];
    if (watched == pid) return;
    watched = pid;
  }
  if (!exit_watch_.watch_process(pid, [this, dir, pid] { monitor_gone(dir, pid); })) monitor_gone(dir, pid);
}

pid_t Containers::monitor_pid(const std::string& monitor_dir) const {
  std::lock_guard lock(monitor_pids_mu_);
  auto it = monitor_pids_.find(monitor_dir);
  return it == monitor_pids_.end() ? 0 : it->second;
}

void Containers::monitor_gone(const std::string& dir, pid_t pid) {
  {
    std::lock_guard lock(monitor_pids_mu_);
    if (auto it = monitor_pids_.find(dir); it != monitor_pids_.end() && it->second == pid) monitor_pids_.erase(it);
  }
  std::vector<std::shared_ptr<Entry>> held;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : containers_) {
      std::lock_guard rec_lock(e->mu);
      if (e->monitor_pid != pid || e->rec.monitor_dir != dir) continue;
      e->monitor_pid = -1;  // a later monitor of the pod does not hold it
      if (e->rec.state == State::created || e->rec.state == State::running) held.push_back(e);
    }
  }
  // A monitor asked to exit (its pod removed) holds nothing by then.
  if (held.empty()) return;
  log::warn("a pod's monitor ended while it held containers",
            {{"monitor", dir}, {"pid", std::to_string(pid)}, {"containers", std::to_string(held.size())}});
  for (const auto& e : held) {
    // Its exit may have been recorded just before the monitor died.
    snapshot(*e);
    adopt(*e);
  }
}

void Containers::adopt(Entry& e) {
  Record rec;
  {
    std::lock_guard lock(e.mu);
    if (e.orphan.adopted || (e.rec.state != State::created && e.rec.state != State::running)) return;
    e.orphan.adopted = true;
    rec = e.rec;
  }
  bool running = rec.pid > 0;
  try {
    running = running && alive(runtime_status(runtime_of(rec), rec.id));
  } catch (const std::exception& ex) {  // then its init's pid is all there is to go by
    log::warn("asking the runtime of an orphaned container", {{"id", rec.id}, {"error", ex.what()}});
  }
  log::warn("adopting a container whose monitor is gone",
            {{"id", rec.id}, {"pod", rec.pod_id}, {"alive", running ? "yes" : "no"}});
  const std::string id = rec.id;
  if (running) running = exit_watch_.watch_process(rec.pid, [this, id] { orphan_ended(id); });
  if (!running) orphan_ended(id);
}

void Containers::orphan_ended(const std::string& id) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    e = it->second;
  }
  {
    std::lock_guard lock(e->mu);
    e->orphan.gone = true;
  }
  snapshot(*e);  // reports the stop
}

void Containers::stop_orphan(Entry& e, std::chrono::seconds timeout) {
  const Record rec = snapshot(e);
  if (rec.state != State::created && rec.state != State::running) return;
  const oci::monitor::Handler runtime = runtime_of(rec);
  auto gone = [&](std::chrono::milliseconds within) {
    return wait_until(
        [&] {
          std::lock_guard lock(e.mu);
          return e.orphan.gone;
        },
        within, 5ms);
  };
  auto send = [&](int sig) {
    {
      std::lock_guard lock(e.mu);
      e.orphan.signal = sig;
    }
    runtime_kill(runtime, rec.id, sig, sig == SIGKILL);
  };
  if (rec.state == State::running && timeout > 0s) {
    send(rec.stop_signal);
    if (gone(timeout)) {
      snapshot(e);
      return;
    }
  }
  send(SIGKILL);
  if (!gone(kOrphanKillGrace))
    throw Internal("container " + rec.id + " (its monitor gone) did not exit within " +
                   std::to_string(kOrphanKillGrace.count()) + "s of SIGKILL");
  snapshot(e);
}

}  // namespace crius::container
