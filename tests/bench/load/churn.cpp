#include "tests/bench/load/churn.h"
//
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace crius::bench::load {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kFastDeadline = std::chrono::seconds(10);
// The churn steps the calls are released against (RUNNING polls excepted):
// RunPodSandbox, PodSandboxStatus, CreateContainer, StartContainer,
// StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox.
constexpr int kStepsPerPod = 8;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The pods and containers that exist now, and every ID whose removal was sent.
class LiveIds {
 public:
  void add(bool pod, const std::string& id) {
    std::lock_guard lock(mu_);
    (pod ? pods_ : containers_).push_back(id);
  }
  void removing(bool pod, const std::string& id) {
    std::lock_guard lock(mu_);
    auto& v = pod ? pods_ : containers_;
    std::erase(v, id);
    removed_.insert(id);
  }
  std::string pick(bool pod, std::mt19937_64& rng) const {
    std::lock_guard lock(mu_);
    const auto& v = pod ? pods_ : containers_;
    return v.empty() ? std::string() : v[rng() % v.size()];
  }
  bool removed(const std::string& id) const {
    std::lock_guard lock(mu_);
    return removed_.count(id) > 0;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> pods_, containers_;
  std::set<std::string> removed_;
};

// Hands out call numbers in step with the churn's progress.
class Gate {
 public:
  Gate(int calls, int steps) : calls_(calls), steps_(steps) {}
  void steps_done(int n) {
    {
      std::lock_guard lock(mu_);
      done_ += n;
    }
    cv_.notify_all();
  }
  void finish() {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
  }
  // The next call's number, or -1 when all were handed out.
  int next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return issued_ >= calls_ || issued_ < budget(); });
    return issued_ >= calls_ ? -1 : issued_++;
  }

 private:
  int budget() const {
    if (finished_ || done_ >= steps_) return calls_;
    return static_cast<int>(static_cast<long long>(calls_) * done_ / steps_);
  }
  std::mutex mu_;
  std::condition_variable cv_;
  const int calls_, steps_;
  int done_ = 0, issued_ = 0;
  bool finished_ = false;
};

struct Shared {
  const KubeletPods& kp;
  LiveIds live;
  Gate gate;
  ChurnResult& out;
  std::atomic<int> next_pod{0};
};

// One pod's life; every step counts toward the gate, done or skipped.
void churn_pod(Shared& sh, int i) {
  const KubeletPods& kp = sh.kp;
  Pod p = kp.prepare("churn-" + std::to_string(i));
  int left = kStepsPerPod;
  auto step = [&](const char* name, const std::function<grpc::Status()>& call, bool gated = true) {
    const auto t = Clock::now();
    const grpc::Status s = call();
    sh.out.steps.add(name, ms_since(t), s.ok() ? Outcome::ok : Outcome::error, s);
    if (gated) {
      --left;
      sh.gate.steps_done(1);
    }
    return s.ok();
  };
  bool up = step("RunPodSandbox", [&] { return kp.run_pod(p); });
  if (up) sh.live.add(true, p.id);
  up = up && step("PodSandboxStatus", [&] { return kp.pod_status(p); });
  up = up && step("CreateContainer", [&] { return kp.create_container(p); });
  if (up) sh.live.add(false, p.container);
  up = up && step("StartContainer", [&] { return kp.start_container(p); });
  up = up && step("until RUNNING", [&] { return kp.wait_running(p); }, false);
  if (up) ++sh.out.pods_started;
  if (!p.container.empty()) {
    step("StopContainer", [&] { return kp.stop_container(p); });
    sh.live.removing(false, p.container);
    step("RemoveContainer", [&] { return kp.remove_container(p); });
  }
  if (!p.id.empty()) {
    step("StopPodSandbox", [&] { return kp.stop_pod(p); });
    sh.live.removing(true, p.id);
    step("RemovePodSandbox", [&] { return kp.remove_pod(p); });
  }
  if (const std::string left_behind = kp.release(p); !left_behind.empty())
    sh.out.steps.add_error("pod cgroup removal", left_behind);
  if (left > 0) sh.gate.steps_done(left);
}

// One fast call of the kind `n` picks. A status call needs an existing ID.
void fast_call(Shared& sh, int n, std::mt19937_64& rng) {
  static const char* kKinds[] = {"ListPodSandbox", "ListContainers", "Status", "ContainerStatus", "PodSandboxStatus"};
  const std::string kind = kKinds[n % 5];
  auto& rt = sh.kp.daemon().runtime();
  std::string id;
  grpc::Status s;
  const auto t = Clock::now();
  switch (n % 5) {
    case 0: {
      v1::ListPodSandboxRequest req;
      v1::ListPodSandboxResponse res;
      s = rt.ListPodSandbox(deadline(kFastDeadline).get(), req, &res);
      break;
    }
    case 1: {
      v1::ListContainersRequest req;
      v1::ListContainersResponse res;
      s = rt.ListContainers(deadline(kFastDeadline).get(), req, &res);
      break;
    }
    case 2: {
      v1::StatusRequest req;
      v1::StatusResponse res;
      s = rt.Status(deadline(kFastDeadline).get(), req, &res);
      // A node whose runtime says it is not ready under load goes NotReady.
      for (const auto& c : res.status().conditions())
        if (s.ok() && !c.status())
          s = grpc::Status(grpc::StatusCode::INTERNAL, "Status: condition " + c.type() + " is false: " + c.message());
      break;
    }
    case 3: {
      v1::ContainerStatusRequest req;
      id = sh.live.pick(false, rng);
      req.set_container_id(id);
      v1::ContainerStatusResponse res;
      s = rt.ContainerStatus(deadline(kFastDeadline).get(), req, &res);
      if (s.ok() && res.status().id() != id)
        s = grpc::Status(grpc::StatusCode::INTERNAL, "ContainerStatus of " + id + " answered " + res.status().id());
      break;
    }
    default: {
      v1::PodSandboxStatusRequest req;
      id = sh.live.pick(true, rng);
      req.set_pod_sandbox_id(id);
      v1::PodSandboxStatusResponse res;
      s = rt.PodSandboxStatus(deadline(kFastDeadline).get(), req, &res);
      if (s.ok() && res.status().id() != id)
        s = grpc::Status(grpc::StatusCode::INTERNAL, "PodSandboxStatus of " + id + " answered " + res.status().id());
      break;
    }
  }
  const double ms = ms_since(t);
  Outcome o = s.ok() ? Outcome::ok : Outcome::error;
  if (s.error_code() == grpc::StatusCode::NOT_FOUND && !id.empty() && sh.live.removed(id))
    o = Outcome::expected_not_found;
  sh.out.rpcs.add(kind, ms, o, s);
}

// The long-lived pod; its failures are errors of the phase.
bool start_anchor(const KubeletPods& kp, Pod& p, ChurnResult& out) {
  p = kp.prepare("anchor");
  std::string step = "RunPodSandbox";
  grpc::Status s = kp.run_pod(p);
  if (s.ok()) s = kp.pod_status(p), step = "PodSandboxStatus";
  if (s.ok()) s = kp.create_container(p), step = "CreateContainer";
  if (s.ok()) s = kp.start_container(p), step = "StartContainer";
  if (s.ok()) s = kp.wait_running(p), step = "until RUNNING";
  if (s.ok()) return true;
  out.steps.add_error("anchor pod", step + ": " + s.error_message());
  kp.abandon(p);
  return false;
}

void stop_anchor(const KubeletPods& kp, const Pod& p, ChurnResult& out) {
  auto check = [&](const char* step, const grpc::Status& s) {
    if (!s.ok()) out.steps.add_error("anchor pod", std::string(step) + ": " + s.error_message());
  };
  check("StopContainer", kp.stop_container(p));
  check("RemoveContainer", kp.remove_container(p));
  check("StopPodSandbox", kp.stop_pod(p));
  check("RemovePodSandbox", kp.remove_pod(p));
  if (const std::string left_behind = kp.release(p); !left_behind.empty())
    out.steps.add_error("pod cgroup removal", left_behind);
}

}  // namespace

void run_churn(const KubeletPods& kp, const ChurnOptions& o, ChurnResult& out) {
  Pod anchor;
  if (!start_anchor(kp, anchor, out)) return;
  Shared sh{kp, {}, Gate(o.rpcs, o.pods * kStepsPerPod), out};
  sh.live.add(true, anchor.id);
  sh.live.add(false, anchor.container);
  const auto t = Clock::now();
  std::vector<std::thread> workers, clients;
  for (int w = 0; w < o.parallel; ++w)
    workers.emplace_back([&] {
      for (int i; (i = sh.next_pod++) < o.pods;) {
        std::this_thread::sleep_until(t + std::chrono::milliseconds(o.pod_interval_ms) * i);
        churn_pod(sh, i);
      }
    });
  for (int c = 0; c < o.clients; ++c)
    clients.emplace_back([&] {
      std::mt19937_64 rng(std::random_device{}());
      for (int n; (n = sh.gate.next()) >= 0;) fast_call(sh, n, rng);
    });
  for (auto& w : workers) w.join();
  sh.gate.finish();
  for (auto& c : clients) c.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - t).count();
  stop_anchor(kp, anchor, out);
}

}  // namespace crius::bench::load
