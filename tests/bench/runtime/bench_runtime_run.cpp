// Times `<runtime> run` of /bin/true (create + start + wait + delete) for
// every runtime we have, on one bundle without a network namespace.
//
//   bench_runtime_run [-n ROUNDS] [--warmup W] [--runtime NAME=PATH]...
#include "tests/bench/runtime/bench_driver.h"

using namespace crius::bench;

int main(int argc, char** argv) {
  Workload w;
  w.program = "bench_runtime_run";
  w.unit = "runs";
  w.default_rounds = 50;
  w.title = "run of /bin/true (create + start + wait + delete), no network namespace";
  w.prepare = [](rt::Bundle& b) { b.args({"/bin/true"}); };
  w.step = [](Candidate& c, const rt::Bundle& b) {
    const std::string id = rt::unique_id("bench");
    rt::SpawnOptions o;
    o.timeout = std::chrono::seconds(30);
    auto r = c.runtime->cmd({"run", "--bundle", b.dir().string(), id}, o);
    if (!r.ok()) c.runtime->del(id, true);
    return r;
  };
  return bench_main(argc, argv, w);
}
