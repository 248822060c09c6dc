#include "tests/bench/runtime/bench_driver.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace crius::bench {

namespace {

using Clock = std::chrono::steady_clock;

// Nearest rank.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void usage(const Workload& w) {
  std::cerr << "usage: " << w.program << " [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...\n"
            << "  -n ROUNDS           timed " << w.unit << " per runtime (default " << w.default_rounds << ")\n"
            << "  --warmup W          untimed " << w.unit << " per runtime first (default 3)\n"
            << "  --runtime NAME=PATH benchmark this binary (replaces the built-in list); PATH may be\n"
            << "                      followed by global flags: 'crun-nocg=/usr/bin/crun --cgroup-manager=disabled'\n";
}

void add(std::vector<Candidate>& cands, std::string name, std::string binary, std::vector<std::string> global = {}) {
  Candidate c;
  c.name = std::move(name);
  c.binary = std::move(binary);
  c.global = std::move(global);
  cands.push_back(std::move(c));
}

void print(const Workload& w, int rounds, const std::vector<Candidate>& cands) {
  std::printf("%s, %d rounds interleaved\n", w.title.c_str(), rounds);
  std::printf("%-15s %10s %10s %10s %8s\n", "runtime", "median ms", "p90 ms", "mean ms", "failed");
  for (const auto& c : cands) {
    double mean = 0;
    for (double v : c.ms) mean += v;
    mean = c.ms.empty() ? 0 : mean / static_cast<double>(c.ms.size());
    std::printf("%-15s %10.2f %10.2f %10.2f %8d\n", c.name.c_str(), percentile(c.ms, 50), percentile(c.ms, 90), mean,
                c.failures);
  }
  for (const char* ref : {"crun", "runc"}) {
    double m = 0;
    for (const auto& c : cands)
      if (c.name == ref && !c.ms.empty()) m = percentile(c.ms, 50);
    if (m <= 0) continue;
    std::printf("ratio of medians to %s:", ref);
    for (const auto& c : cands)
      if (!c.ms.empty()) std::printf("  %s %.2f", c.name.c_str(), percentile(c.ms, 50) / m);
    std::printf("\n");
  }
  std::fflush(stdout);
}

}  // namespace

int bench_main(int argc, char** argv, const Workload& w) {
  int rounds = w.default_rounds, warmup = 3;
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
      if (eq == std::string::npos) return usage(w), 2;
      std::istringstream words(v.substr(eq + 1));
      std::string binary;
      words >> binary;
      std::vector<std::string> global;
      for (std::string g; words >> g;) global.push_back(g);
      add(cands, v.substr(0, eq), binary, global);
    } else {
      usage(w);
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (rounds < 1) return usage(w), 2;
  if (::geteuid() != 0) {
    std::cerr << w.program << " needs root\n";
    return 1;
  }
  if (cands.empty()) {
#ifdef CRIUS_RUNTIME_PATH
    add(cands, "crius-runtime", CRIUS_RUNTIME_PATH);
#endif
#ifdef CRIUS_CRUN_PATH
    add(cands, "crun", CRIUS_CRUN_PATH);
#endif
#ifdef CRIUS_RUNC_PATH
    add(cands, "runc", CRIUS_RUNC_PATH);
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
  bundle.remove_namespace("network");  // its setup cost is not the runtime's
  w.prepare(bundle);
  bundle.write();  // once, outside the timing
  for (auto& c : cands) {
    auto root = tmp.path() / ("state-" + c.name);
    std::filesystem::create_directories(root);
    c.runtime = std::make_unique<rt::Runtime>(c.name, c.binary, root, c.global);
    if (std::string err = w.setup(c, bundle); !err.empty()) {
      std::cerr << c.name << ": " << err << "\n";
      return 1;
    }
  }

  auto one = [&](Candidate& c, bool timed) {
    auto t0 = Clock::now();
    auto r = w.step(c, bundle);
    auto t1 = Clock::now();
    if (!r.ok()) {
      ++c.failures;
      c.last_error = r.describe();
      return;
    }
    if (timed) c.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  };
  for (int i = 0; i < warmup; ++i)
    for (auto& c : cands) one(c, false);
  for (int i = 0; i < rounds; ++i) {
    for (size_t k = 0; k < cands.size(); ++k) one(cands[(i + k) % cands.size()], true);
    rt::reap_zombies();
  }
  print(w, rounds, cands);

  int status = 0;
  for (auto& c : cands) {
    c.container.reset();  // force-deletes a running container
    if (c.failures) {
      std::fprintf(stderr, "%s failed %d %s; last: %s\n", c.name.c_str(), c.failures, w.unit.c_str(),
                   c.last_error.c_str());
      status = 1;
    }
  }
  rt::reap_zombies();
  return status;
}

}  // namespace crius::bench
