// The shared driver of the runtime benchmarks: which runtimes (built-in list
// or --runtime NAME=PATH), warm-up, rounds interleaved with a rotating first
// runtime so that machine noise hits all alike, and the printed medians, p90s
// and ratios. A benchmark only says what one timed step is.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/runtime/harness.h"

namespace crius::bench {

namespace rt = crius::testing::rt;

struct Candidate {
  std::string name, binary;
  std::vector<std::string> global;
  std::unique_ptr<rt::Runtime> runtime;
  std::unique_ptr<rt::Container> container;  // for workloads that need one running
  std::vector<double> ms;
  int failures = 0;
  std::string last_error;
};

struct Workload {
  std::string program;  // for usage and messages
  std::string unit;     // "runs", "execs"
  int default_rounds = 50;
  std::string title;    // printed above the table, after "<rounds> rounds"
  // Fills the bundle every runtime uses (written by the driver afterwards).
  std::function<void(rt::Bundle&)> prepare;
  // Per runtime, before the warm-up; returns an error text, "" when ready.
  std::function<std::string(Candidate&, const rt::Bundle&)> setup = [](Candidate&, const rt::Bundle&) {
    return std::string();
  };
  // The timed step.
  std::function<rt::Result(Candidate&, const rt::Bundle&)> step;
};

int bench_main(int argc, char** argv, const Workload& w);

}  // namespace crius::bench
