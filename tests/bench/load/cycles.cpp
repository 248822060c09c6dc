#include "tests/bench/load/cycles.h"
//
#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace crius::bench::load {
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// One cycle; its calls go to `tally` (when given) by step, failures always.
// Returns false when a step failed.
bool cycle(const KubeletPods& kp, const std::string& name, bool container, RpcTally& tally, bool timed) {
  Pod p = kp.prepare(name);
  bool ok = true;
  auto step = [&](const char* what, const std::function<grpc::Status()>& call) {
    const auto t = Clock::now();
    const grpc::Status s = call();
    if (!s.ok()) {
      tally.add(timed ? what : std::string("warm-up ") + what, 0, Outcome::error, s);
      ok = false;
    } else if (timed) {
      tally.add(what, ms_since(t), Outcome::ok);
    }
    return s.ok();
  };
  const auto t = Clock::now();
  bool up = step("RunPodSandbox", [&] { return kp.run_pod(p); });
  up = up && step("PodSandboxStatus", [&] { return kp.pod_status(p); });
  if (up && container) {
    up = step("CreateContainer", [&] { return kp.create_container(p); });
    up = up && step("StartContainer", [&] { return kp.start_container(p); });
    up = up && step("until RUNNING", [&] { return kp.wait_running(p); });
  }
  if (!p.container.empty()) {
    step("StopContainer", [&] { return kp.stop_container(p); });
    step("RemoveContainer", [&] { return kp.remove_container(p); });
  }
  if (!p.id.empty()) {
    step("StopPodSandbox", [&] { return kp.stop_pod(p); });
    step("RemovePodSandbox", [&] { return kp.remove_pod(p); });
  }
  if (const std::string left = kp.release(p); !left.empty()) {
    tally.add_error("pod cgroup removal", left);
    ok = false;
  }
  if (ok && timed) tally.add(container ? "whole cycle (ctr)" : "whole cycle (pod)", ms_since(t), Outcome::ok);
  return ok;
}

}  // namespace

Footprint footprint_of(pid_t pid) { return {memory_of(pid).rss_kb, open_fds(pid), threads_of(pid)}; }

void run_cycles(const KubeletPods& kp, const Network& net, const CyclesOptions& o, CyclesResult& out) {
  using namespace std::chrono_literals;
  const pid_t pid = kp.daemon().pid();
  const bool any_container = o.container_every > 0;
  // Warm-up: every path the cycles take (a container included) runs before the baseline.
  for (int i = 0; i < o.warmup; ++i)
    cycle(kp, "warm-" + std::to_string(i), any_container && i % 2 == 0, out.steps, false);
  const HostState baseline = settled_host_state(kp, net, 30s);
  std::this_thread::sleep_for(o.settle);
  out.before = footprint_of(pid);
  out.trend.emplace_back(0, out.before);

  const auto t = Clock::now();
  std::atomic<int> next{0}, done{0}, with_container{0};
  std::mutex trend_mu;
  const int every = std::max(1, o.checkpoints > 0 ? o.cycles / o.checkpoints : o.cycles);
  std::vector<std::thread> workers;
  for (int w = 0; w < o.parallel; ++w)
    workers.emplace_back([&] {
      for (int i; (i = next++) < o.cycles;) {
        const bool container = any_container && i % o.container_every == o.container_every - 1;
        cycle(kp, "cycle-" + std::to_string(i), container, out.steps, true);
        with_container += container;
        const int n = ++done;
        if (n % every == 0 && n < o.cycles) {
          std::lock_guard lock(trend_mu);
          out.trend.emplace_back(n, footprint_of(pid));
        }
      }
    });
  for (auto& w : workers) w.join();
  std::sort(out.trend.begin(), out.trend.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out.cycles_done = done;
  out.with_container = with_container;
  out.seconds = std::chrono::duration<double>(Clock::now() - t).count();

  out.left = settled_leftovers(kp, net, baseline, 30s);
  std::this_thread::sleep_for(o.settle);
  out.after = footprint_of(pid);
  out.trend.emplace_back(o.cycles, out.after);
}

}  // namespace crius::bench::load
