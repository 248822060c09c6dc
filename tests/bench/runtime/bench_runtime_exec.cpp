// Times `<runtime> exec <id> /bin/true` into a running container (a sleep)
// for every runtime we have, one container per runtime, interleaving the
// runtimes in each round (and rotating who goes first) so that machine noise
// hits all alike. Prints the median and p90 per runtime and the ratios of
// the medians.
//
//   bench_runtime_exec [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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
  std::unique_ptr<rt::Container> container;
  std::vector<double> ms;
  int failures = 0;
  std::string last_error;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void usage() {
  std::cerr << "usage: bench_runtime_exec [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...\n"
               "  -n ROUNDS           timed execs per runtime (default 100)\n"
               "  --warmup W          untimed execs per runtime first (default 3)\n"
               "  --runtime NAME=PATH benchmark this binary (replaces the built-in list);\n"
               "                      PATH may be followed by global flags, space-separated\n";
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 100, warmup = 3;
  std::vector<Candidate> cands;
  auto add = [&](std::string name, std::string binary, std::vector<std::string> global = {}) {
    Candidate c;
    c.name = std::move(name);
    c.binary = std::move(binary);
    c.global = std::move(global);
    cands.push_back(std::move(c));
  };
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
      std::istringstream words(v.substr(eq + 1));
      std::string binary;
      words >> binary;
      std::vector<std::string> global;
      for (std::string w; words >> w;) global.push_back(w);
      add(v.substr(0, eq), binary, global);
    } else {
      usage();
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (rounds < 1) return usage(), 2;
  if (::geteuid() != 0) {
    std::cerr << "bench_runtime_exec needs root\n";
    return 1;
  }
  if (cands.empty()) {
#ifdef CRIUS_RUNTIME_PATH
    add("crius-runtime", CRIUS_RUNTIME_PATH);
#endif
#ifdef CRIUS_CRUN_PATH
    add("crun", CRIUS_CRUN_PATH);
#endif
#ifdef CRIUS_RUNC_PATH
    add("runc", CRIUS_RUNC_PATH);
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

  rt::TempDir tmp("crius-bench-exec-");
  rt::Bundle bundle(tmp.path() / "bundle");
  bundle.args({"sleep", "100000"});
  bundle.remove_namespace("network");  // its setup is not what is measured
  bundle.write();
  for (auto& c : cands) {
    auto root = tmp.path() / ("state-" + c.name);
    std::filesystem::create_directories(root);
    c.runtime = std::make_unique<rt::Runtime>(c.name, c.binary, root, c.global);
    c.container = std::make_unique<rt::Container>(*c.runtime, rt::unique_id("bench-exec"));
    std::string error;
    if (c.container->launch(bundle, "sleep", &error) <= 0) {
      std::cerr << c.name << ": could not start the container: " << error << "\n";
      return 1;
    }
  }

  auto one = [&](Candidate& c, bool timed) {
    rt::SpawnOptions o;
    o.timeout = std::chrono::seconds(30);
    auto t0 = Clock::now();
    auto r = c.runtime->cmd({"exec", c.container->id(), "/bin/true"}, o);
    auto t1 = Clock::now();
    if (!r.ok()) {
      ++c.failures;
      c.last_error = r.describe();
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

  std::printf("exec of /bin/true into a running container, %d rounds interleaved, no network namespace\n", rounds);
  std::printf("%-15s %10s %10s %10s %8s\n", "runtime", "median ms", "p90 ms", "mean ms", "failed");
  for (auto& c : cands) {
    double mean = 0;
    for (double v : c.ms) mean += v;
    mean = c.ms.empty() ? 0 : mean / static_cast<double>(c.ms.size());
    std::printf("%-15s %10.2f %10.2f %10.2f %8d\n", c.name.c_str(), percentile(c.ms, 50), percentile(c.ms, 90), mean,
                c.failures);
  }
  for (const char* ref : {"crun", "runc"}) {
    double m = 0;
    for (auto& c : cands)
      if (c.name == ref && !c.ms.empty()) m = percentile(c.ms, 50);
    if (m <= 0) continue;
    std::printf("ratio of medians to %s:", ref);
    for (auto& c : cands)
      if (!c.ms.empty()) std::printf("  %s %.2f", c.name.c_str(), percentile(c.ms, 50) / m);
    std::printf("\n");
  }
  std::fflush(stdout);
  int status = 0;
  for (auto& c : cands) {
    c.container.reset();  // force-deletes the container
    if (c.failures) {
      std::fprintf(stderr, "%s failed %d execs; last: %s\n", c.name.c_str(), c.failures, c.last_error.c_str());
      status = 1;
    }
  }
  rt::reap_zombies();
  return status;
}
