// Times `<runtime> exec <id> /bin/true` into a running container (a sleep)
// for every runtime we have, one container per runtime, no network namespace.
//
//   bench_runtime_exec [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...
#include "tests/bench/runtime/bench_driver.h"

using namespace crius::bench;

int main(int argc, char** argv) {
  Workload w;
  w.program = "bench_runtime_exec";
  w.unit = "execs";
  w.default_rounds = 100;
  w.title = "exec of /bin/true into a running container, no network namespace";
  w.prepare = [](rt::Bundle& b) { b.args({"sleep", "100000"}); };
  w.setup = [](Candidate& c, const rt::Bundle& b) {
    c.container = std::make_unique<rt::Container>(*c.runtime, rt::unique_id("bench-exec"));
    std::string error;
    if (c.container->launch(b, "sleep", &error) <= 0) return "could not start the container: " + error;
    return std::string();
  };
  w.step = [](Candidate& c, const rt::Bundle&) {
    rt::SpawnOptions o;
    o.timeout = std::chrono::seconds(30);
    return c.runtime->cmd({"exec", c.container->id(), "/bin/true"}, o);
  };
  return bench_main(argc, argv, w);
}
