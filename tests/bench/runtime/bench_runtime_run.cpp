// Times `<runtime> run` of /bin/true (create + start + wait + delete) for
// every runtime we have, on one bundle, interleaving the runtimes in each
// round (and rotating who goes first) so that machine noise hits all alike.
// Prints the median and p90 per runtime and the ratios of the medians.
//
//   bench_runtime_run [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...
//
// crun and runc create the container's cgroups (crius-runtime does not until
// the cgroups issue lands); to compare like with like, add crun without them:
//   --runtime crius-runtime=PATH --runtime 'crun-nocg=/usr/bin/crun --cgroup-manager=disabled' …
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/runtime/harness.h"

namespace rt = crius::testing::rt;
using Clock = std::chrono::steady_clock;

namespace {

struct Candidate {
  std::string name, binary;
  std::vector<std::string> global;
  std::unique_ptr<rt::Runtime> runtime;
  std::vector<double> ms;
  int failures = 0;
  std::string last_error;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void usage() {
  std::cerr << "usage: bench_runtime_run [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...\n"
               "  -n ROUNDS           timed runs per runtime (default 50)\n"
               "  --warmup W          untimed runs per runtime first (default 3)\n"
               "  --runtime NAME=PATH benchmark this binary (replaces the built-in list);\n"
               "                      PATH may be followed by global flags, space-separated\n";
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 50, warmup = 3;
  std::vector<Candidate> cands;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-n" || a == "--rounds") && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--warmup" && i + 1 < argc) {
      warmup = std::atoi(argv[++i]);
    } else if (a == "--runtime" && i + 1 < argc) {
      std::string v = argv[++i];
      auto eq = v.find('=');
      if (eq == std::string::npos) return usage(), 2;
      // PATH may be followed by global flags: "crun-nocg=/usr/bin/crun --cgroup-manager=disabled".
      std::istringstream words(v.substr(eq + 1));
      Candidate c{v.substr(0, eq), "", {}, nullptr, {}, 0, ""};
      words >> c.binary;
      for (std::string w; words >> w;) c.global.push_back(w);
      cands.push_back(std::move(c));
    } else {
      usage();
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (rounds < 1) return usage(), 2;
  if (::geteuid() != 0) {
    std::cerr << "bench_runtime_run needs root\n";
    return 1;
  }
  if (cands.empty()) {
#ifdef CRIUS_RUNTIME_PATH
    cands.push_back({"crius-runtime", CRIUS_RUNTIME_PATH, {}, nullptr, {}, 0, ""});
#endif
#ifdef CRIUS_CRUN_PATH
    cands.push_back({"crun", CRIUS_CRUN_PATH, {}, nullptr, {}, 0, ""});
#endif
#ifdef CRIUS_RUNC_PATH
    cands.push_back({"runc", CRIUS_RUNC_PATH, {}, nullptr, {}, 0, ""});
#endif
  }
  cands.erase(std::remove_if(cands.begin(), cands.end(),
                             [](const Candidate& c) {
                               bool ok = ::access(c.binary.c_str(), X_OK) == 0;
                               if (!ok) std::cerr << "skipping " << c.name << ": no executable at " << c.binary << "\n";
                               return !ok;
                             }),
              cands.end());
  if (cands.empty()) {
    std::cerr << "no runtime to benchmark\n";
    return 1;
  }

  const std::string note = rt::prepare_host();
  if (!note.empty()) std::cout << "note: " << note << "\n";

  rt::TempDir tmp("crius-bench-rt-");
  rt::Bundle bundle(tmp.path() / "bundle");
  bundle.args({"/bin/true"});
  bundle.remove_namespace("network");  // no network namespace: its setup cost is not the runtime's
  bundle.write();
  for (auto& c : cands) {
    auto root = tmp.path() / ("state-" + c.name);
    std::filesystem::create_directories(root);
    c.runtime = std::make_unique<rt::Runtime>(c.name, c.binary, root, c.global);
  }

  auto one = [&](Candidate& c, bool timed) {
    const std::string id = rt::unique_id("bench");
    rt::SpawnOptions o;
    o.timeout = std::chrono::seconds(30);
    auto t0 = Clock::now();  // config.json is written once, outside the timing
    auto r = c.runtime->cmd({"run", "--bundle", bundle.dir().string(), id}, o);
    auto t1 = Clock::now();
    if (!r.ok()) {
      ++c.failures;
      c.last_error = r.describe();
      c.runtime->del(id, true);
      return;
    }
    if (timed) c.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  };

  for (int w = 0; w < warmup; ++w)
    for (auto& c : cands) one(c, false);
  for (int i = 0; i < rounds; ++i) {
    for (size_t k = 0; k < cands.size(); ++k) one(cands[(i + k) % cands.size()], true);
    rt::reap_zombies();
  }

  std::printf("run of /bin/true (create + start + wait + delete), %d rounds interleaved, no network namespace\n",
              rounds);
  std::printf("%-15s %10s %10s %10s %8s\n", "runtime", "median ms", "p90 ms", "mean ms", "failed");
  for (auto& c : cands) {
    double mean = 0;
    for (double v : c.ms) mean += v;
    mean = c.ms.empty() ? 0 : mean / static_cast<double>(c.ms.size());
    std::printf("%-15s %10.2f %10.2f %10.2f %8d\n", c.name.c_str(), percentile(c.ms, 50), percentile(c.ms, 90), mean,
                c.failures);
  }
  auto median_of = [&](const std::string& name) -> double {
    for (auto& c : cands)
      if (c.name == name && !c.ms.empty()) return percentile(c.ms, 50);
    return 0;
  };
  for (const char* ref : {"crun", "runc"}) {
    double m = median_of(ref);
    if (m <= 0) continue;
    std::printf("ratio of medians to %s:", ref);
    for (auto& c : cands)
      if (!c.ms.empty()) std::printf("  %s %.2f", c.name.c_str(), percentile(c.ms, 50) / m);
    std::printf("\n");
  }
  std::fflush(stdout);
  int status = 0;
  for (auto& c : cands) {
    if (c.failures) {
      std::fprintf(stderr, "%s failed %d runs; last: %s\n", c.name.c_str(), c.failures, c.last_error.c_str());
      status = 1;
    }
  }
  return status;
}
