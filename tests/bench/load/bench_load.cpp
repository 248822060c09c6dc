// Load and leaks (issue 17): crius against containerd 1.6 (Debian's package)
// in one run, on the side-by-side harness of tests/bench/cri (private dirs,
// the same loopback registry, images and bridge CNI config):
//
//   1. churn: exactly --rpcs fast calls (ListPodSandbox, ListContainers,
//      Status, ContainerStatus, PodSandboxStatus) from --clients threads
//      while --pods pods of one container start and stop, one every
//      --pod-interval-ms and at most --parallel at a time, so that both
//      daemons are offered the same churn; p50/p99/max per call, errors
//      (churn.h says which NotFounds are expected);
//   2. cycles: -n pod create/remove cycles, --cycle-parallel at a time, a
//      container in every --container-every-th; the daemon's VmRSS, open fds
//      and threads after a warm-up and after the cycles, and what the cycles
//      left on the host.
//
// Each daemon runs its phases alone (the other idles). Not a test, and no
// figure is judged against a time; but the run fails (exit 1) when any call
// failed, anything was left on the host, or the daemon's VmRSS or open fds
// grew over the cycles by more than the margins (8 MiB, 8 fds), for either
// daemon. Run it as root:
//
//   bench_load [-n CYCLES] [--pods P] [--rpcs R] [--only crius|containerd] [--events] [--crius PATH] ...
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/bench/cri/harness.h"
#include "tests/bench/load/churn.h"
#include "tests/bench/load/cycles.h"
#include "tests/bench/load/event_reader.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace fs = std::filesystem;
namespace fx = crius::fixtures;
using namespace crius::bench;
using namespace crius::bench::load;
using namespace std::chrono_literals;

namespace {

struct Options {
  ChurnOptions churn;
  CyclesOptions cycles;
  long rss_margin_kb = 8 * 1024;
  int fd_margin = 8;
  bool events = false;
  std::set<std::string> daemons{"crius", "containerd"}, phases{"churn", "cycles"};
  std::string crius = CRIUS_BINARY;
};

void usage() {
  std::cerr
      << "usage: bench_load [-n CYCLES] [--pods P] [--rpcs R] [--clients C] [--parallel W] [--pod-interval-ms T]\n"
         "                  [--cycle-parallel W] [--warmup N] [--container-every K] [--checkpoints C] [--settle S]\n"
         "                  [--rss-margin-mb M] [--fd-margin F] [--events]\n"
         "                  [--only crius|containerd] [--phases churn,cycles] [--crius PATH]\n"
         "  -n CYCLES            pod create/remove cycles (default 1000)\n"
         "  --pods P             pods started and stopped during the churn (default 50)\n"
         "  --rpcs R             fast calls made during the churn (default 1000)\n"
         "  --clients C          threads making them (default 8)\n"
         "  --parallel W         pods churned at once, at most (default 5)\n"
         "  --pod-interval-ms T  pod i of the churn starts no sooner than i*T ms in; 0: as fast as the\n"
         "                       daemon goes, which loads the faster one more (default 1000)\n"
         "  --cycle-parallel W   cycles run at once (default 3)\n"
         "  --warmup N           cycles before the first footprint (default 20)\n"
         "  --container-every K  every K-th cycle runs a container in its pod; 0: none (default 5)\n"
         "  --checkpoints C      footprints taken along the cycles (default 4)\n"
         "  --settle S           idle seconds before each footprint (default 5)\n"
         "  --rss-margin-mb M    VmRSS growth over the cycles that fails the run (default 8)\n"
         "  --fd-margin F        open-fd growth over the cycles that fails the run (default 8)\n"
         "  --events             hold a GetContainerEvents stream open to each daemon and read it, as\n"
         "                       kubelet's evented PLEG does (default: none, as kubelet without it)\n"
         "  --only NAME          one daemon only\n"
         "  --phases LIST        churn, cycles, or both (default)\n"
         "  --crius PATH         the crius binary (default: the one built with this bench)\n";
}

std::set<std::string> split(const std::string& s) {
  std::set<std::string> out;
  std::stringstream ss(s);
  for (std::string w; std::getline(ss, w, ',');) out.insert(w);
  return out;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--events") {
      o.events = true;
      continue;
    }
    if (a == "-h" || a == "--help" || i + 1 >= argc) return false;
    const std::string v = argv[++i];
    const int n = std::atoi(v.c_str());
    if (a == "-n") o.cycles.cycles = n;
    else if (a == "--pods") o.churn.pods = n;
    else if (a == "--rpcs") o.churn.rpcs = n;
    else if (a == "--clients") o.churn.clients = n;
    else if (a == "--parallel") o.churn.parallel = n;
    else if (a == "--pod-interval-ms") o.churn.pod_interval_ms = n;
    else if (a == "--cycle-parallel") o.cycles.parallel = n;
    else if (a == "--checkpoints") o.cycles.checkpoints = n;
    else if (a == "--warmup") o.cycles.warmup = n;
    else if (a == "--container-every") o.cycles.container_every = n;
    else if (a == "--settle") o.cycles.settle = std::chrono::seconds(n);
    else if (a == "--rss-margin-mb") o.rss_margin_kb = n * 1024L;
    else if (a == "--fd-margin") o.fd_margin = n;
    else if (a == "--only") o.daemons = {v};
    else if (a == "--phases") o.phases = split(v);
    else if (a == "--crius") o.crius = v;
    else return false;
  }
  for (const auto& d : o.daemons)
    if (d != "crius" && d != "containerd") return false;
  for (const auto& p : o.phases)
    if (p != "churn" && p != "cycles") return false;
  return o.cycles.cycles >= 1 && o.churn.pods >= 1 && o.churn.rpcs >= 1 && o.churn.clients >= 1 &&
         o.churn.parallel >= 1 && o.churn.pod_interval_ms >= 0 && o.cycles.parallel >= 1 &&
         o.cycles.checkpoints >= 0 && o.cycles.warmup >= 1 && o.cycles.container_every >= 0;
}

void pull_or_throw(CriDaemon& d, const std::string& ref) {
  if (auto s = pull(d, ref); !s.ok()) throw std::runtime_error(d.name() + ": pulling " + ref + ": " + s.error_message());
}

// A pod with a container, up and down, so that every directory a pod makes
// for the first time exists before a baseline is taken.
void first_pod(const KubeletPods& kp) {
  Pod p = kp.prepare("first");
  grpc::Status s = kp.run_pod(p);
  if (s.ok()) s = kp.pod_status(p);
  if (s.ok()) s = kp.create_container(p);
  if (s.ok()) s = kp.start_container(p);
  if (s.ok()) s = kp.wait_running(p);
  kp.abandon(p);
  if (!s.ok()) throw std::runtime_error(kp.daemon().name() + ": the first pod failed: " + s.error_message());
}

void print_left(const std::vector<std::string>& left) {
  if (left.empty()) {
    std::printf("  left on the host: nothing\n");
    return;
  }
  std::printf("  LEFT ON THE HOST (%zu):\n", left.size());
  for (size_t i = 0; i < left.size() && i < 40; ++i) std::printf("    %s\n", left[i].c_str());
  if (left.size() > 40) std::printf("    … and %zu more\n", left.size() - 40);
}

struct Daemon {
  std::unique_ptr<CriDaemon> d;
  std::unique_ptr<Network> net;
  std::unique_ptr<KubeletPods> pods;
  std::unique_ptr<EventReader> events;
  ChurnResult churn;
  std::vector<std::string> churn_left;
  bool churned = false;
  CyclesResult cycles;
  bool cycled = false;
};

void churn_phase(Daemon& x, const ChurnOptions& o) {
  first_pod(*x.pods);
  const HostState baseline = settled_host_state(*x.pods, *x.net, 30s);
  run_churn(*x.pods, o, x.churn);
  x.churned = true;
  x.churn_left = settled_leftovers(*x.pods, *x.net, baseline, 30s);
  std::printf("%s: %d of %d pods up and down (%d at a time) in %.1f s, %d fast calls from %d threads meanwhile\n",
              x.d->name().c_str(), x.churn.pods_started.load(), o.pods, o.parallel, x.churn.seconds,
              x.churn.rpcs.calls(), o.clients);
  std::printf("  fast calls (NotFound*: the pod or container named was being removed by the churn)\n");
  x.churn.rpcs.print("    ");
  std::printf("  the churn's own calls\n");
  x.churn.steps.print("    ");
  print_left(x.churn_left);
  std::printf("\n");
  std::fflush(stdout);
}

std::string kb(long v) { return std::to_string(v) + " KiB"; }

void cycles_phase(Daemon& x, const CyclesOptions& o) {
  run_cycles(*x.pods, *x.net, o, x.cycles);
  x.cycled = true;
  const auto& c = x.cycles;
  std::printf("%s: %d cycles (%d with a container), %d at a time, in %.1f s, after %d warm-up cycles\n",
              x.d->name().c_str(), c.cycles_done, c.with_container, o.parallel, c.seconds, o.warmup);
  c.steps.print("    ");
  std::printf("  footprint of the daemon (pid %d)   %12s %8s %8s\n", x.d->pid(), "VmRSS KiB", "fds", "threads");
  for (const auto& [n, f] : c.trend)
    std::printf("    after %5d cycles%s %12ld %8d %8d\n", n,
                n == 0 || n == c.cycles_done ? " (settled)" : "          ", f.rss_kb, f.fds, f.threads);
  std::printf("    growth                          %+12ld %+8d %+8d\n", c.after.rss_kb - c.before.rss_kb,
              c.after.fds - c.before.fds, c.after.threads - c.before.threads);
  print_left(c.left);
  std::printf("\n");
  std::fflush(stdout);
}

// The summary the issue asks for, and the verdict: problems, one line each.
std::vector<std::string> summarize(const std::vector<Daemon*>& ds, const Options& o) {
  std::vector<std::string> problems;
  std::printf("summary%25s", "");
  for (Daemon* x : ds) std::printf(" %24s", x->d->name().c_str());
  std::printf("\n");
  auto row = [&](const char* title, const std::function<std::string(Daemon&)>& cell) {
    std::printf("  %-30s", title);
    for (Daemon* x : ds) std::printf(" %24s", cell(*x).c_str());
    std::printf("\n");
  };
  auto fmt = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return std::string(b);
  };
  if (o.phases.count("churn")) {
    row("Status p50 / p99 under churn", [&](Daemon& x) {
      return fmt(x.churn.rpcs.percentile("Status", 50)) + " / " + fmt(x.churn.rpcs.percentile("Status", 99)) + " ms";
    });
    row("errors during the churn", [](Daemon& x) { return std::to_string(x.churn.errors()); });
  }
  if (o.phases.count("cycles")) {
    auto change = [](long before, long after) {
      return std::to_string(before) + " -> " + std::to_string(after) + " (" + (after >= before ? "+" : "") +
             std::to_string(after - before) + ")";
    };
    row("VmRSS KiB before -> after", [&](Daemon& x) { return change(x.cycles.before.rss_kb, x.cycles.after.rss_kb); });
    row("open fds before -> after", [&](Daemon& x) { return change(x.cycles.before.fds, x.cycles.after.fds); });
    row("threads before -> after", [&](Daemon& x) { return change(x.cycles.before.threads, x.cycles.after.threads); });
    row("errors during the cycles", [](Daemon& x) { return std::to_string(x.cycles.steps.errors()); });
  }
  if (o.events) row("container events read", [](Daemon& x) { return std::to_string(x.events->events()); });
  row("things left on the host", [](Daemon& x) { return std::to_string(x.churn_left.size() + x.cycles.left.size()); });
  for (Daemon* x : ds) {
    const std::string& n = x->d->name();
    if (x->churned && x->churn.errors())
      problems.push_back(n + ": " + std::to_string(x->churn.errors()) + " errors in the churn");
    if (x->churned && !x->churn_left.empty()) problems.push_back(n + ": the churn left things on the host");
    if (x->events && !x->events->ended().empty())
      problems.push_back(n + ": the GetContainerEvents stream ended: " + x->events->ended());
    if (!x->cycled) continue;
    const auto& c = x->cycles;
    if (c.steps.errors()) problems.push_back(n + ": " + std::to_string(c.steps.errors()) + " errors in the cycles");
    if (!c.left.empty()) problems.push_back(n + ": the cycles left things on the host");
    if (c.after.rss_kb - c.before.rss_kb > o.rss_margin_kb)
      problems.push_back(n + ": VmRSS grew by " + kb(c.after.rss_kb - c.before.rss_kb) + " over the cycles (margin " +
                         kb(o.rss_margin_kb) + ")");
    if (c.after.fds - c.before.fds > o.fd_margin)
      problems.push_back(n + ": open fds grew by " + std::to_string(c.after.fds - c.before.fds) +
                         " over the cycles (margin " + std::to_string(o.fd_margin) + ")");
  }
  if (o.phases.count("cycles"))
    std::printf("  margins over the cycles: VmRSS +%ld KiB, open fds +%d\n", o.rss_margin_kb, o.fd_margin);
  std::printf("\n");
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    usage();
    return argc > 1 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") ? 0 : 2;
  }
  if (::geteuid() != 0) {
    std::cerr << "bench_load needs root\n";
    return 1;
  }
  std::vector<std::string> problems;
  try {
    cleanup_leftovers();
    RunDir run;
    std::fprintf(stderr, "run dir %s\n", run.path().c_str());
    fx::Registry reg;
    run.note("dirs.list", fs::path(reg.storage()).parent_path());
    // containerd needs the pause image; crius runs no infra process for these pods.
    const BaseImages im = push_base_images(reg, CRIUS_PAUSE_BINARY);

    std::map<std::string, Daemon> daemons;
    std::vector<Daemon*> ds;
    for (const std::string name : {"crius", "containerd"}) {
      if (!o.daemons.count(name)) continue;
      Daemon& x = daemons[name];
      x.net = std::make_unique<Network>(run, (name == "crius" ? "cbr" : "cbd") + run.tag());
      if (name == "crius") {
        CriusOptions cr;
        cr.binary = o.crius;
        x.d = start_crius(run, *x.net, cr);
      } else {
        ContainerdOptions co;
        co.sandbox_image = im.pause;
        co.registries = {reg.host()};
        x.d = start_containerd(run, *x.net, co);
        pull_or_throw(*x.d, im.pause);
      }
      pull_or_throw(*x.d, im.busybox);
      x.pods = std::make_unique<KubeletPods>(run, *x.d, im.busybox);
      if (o.events) x.events = std::make_unique<EventReader>(*x.d);
      ds.push_back(&x);
      v1::VersionRequest req;
      v1::VersionResponse res;
      x.d->runtime().Version(deadline(10s).get(), req, &res);
      std::printf("%-11s %s %s (pid %d)\n", name.c_str(), res.runtime_name().c_str(), res.runtime_version().c_str(),
                  x.d->pid());
    }
    std::printf("churn: %d pods, one every %d ms, at most %d at a time, %d fast calls from %d threads; cycles: %d, "
                "%d at a time, a container every %d, %d warm-up, %lld s settle; %s; %u CPUs\n\n",
                o.churn.pods, o.churn.pod_interval_ms, o.churn.parallel, o.churn.rpcs, o.churn.clients,
                o.cycles.cycles, o.cycles.parallel, o.cycles.container_every, o.cycles.warmup,
                static_cast<long long>(o.cycles.settle.count()),
                o.events ? "a GetContainerEvents reader each" : "no GetContainerEvents reader",
                std::thread::hardware_concurrency());
    std::fflush(stdout);
    if (o.phases.count("churn")) {
      std::printf("== 1. fast calls under pod churn ==\n");
      for (Daemon* x : ds) churn_phase(*x, o.churn);
    }
    if (o.phases.count("cycles")) {
      std::printf("== 2. pod create/remove cycles ==\n");
      for (Daemon* x : ds) cycles_phase(*x, o.cycles);
    }
    problems = summarize(ds, o);
    // Daemons stop (pods removed over the CRI) before the run dir is cleaned up.
    for (Daemon* x : ds) {
      x->events.reset();
      x->pods.reset();
      x->d.reset();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_load: %s\n", e.what());
    return 1;
  }
  for (const auto& p : problems) std::printf("FAILED: %s\n", p.c_str());
  if (problems.empty()) std::printf("no errors, nothing left on the host, footprints within the margins\n");
  return problems.empty() ? 0 : 1;
}
