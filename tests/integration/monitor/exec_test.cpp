// exec_sync: output and exit code, timeout, output cap.
#include <fstream>
#include <future>

#include "tests/integration/monitor/fixture.h"

namespace crius::testing::monitor {

CRIUS_MONITOR_SUITE(MonitorExec);

TEST_P(MonitorExec, OutputAndExitCode) {
  auto b = bundle("b", "sleep 1000");
  launch("e", *b, tmp() / "logs" / "e.log");
  auto r = client().exec_sync("e", process({"sh", "-c", "echo hi; echo err >&2; exit 5"}), 10s, 1 << 20);
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.stdout_data, "hi\n");
  EXPECT_EQ(r.stderr_data, "err\n");
  EXPECT_FALSE(r.timed_out);
  // Binary output survives the protocol.
  r = client().exec_sync("e", process({"sh", "-c", "printf '\\377\\000\\n'"}), 10s, 1 << 20);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_data, std::string("\xff\0\n", 3));
  // Not running: refused.
  client().kill("e", SIGKILL, false);
  ASSERT_TRUE(wait_status("e", "stopped"));
  try {
    client().exec_sync("e", process({"true"}), 10s, 1024);
    ADD_FAILURE() << "exec in a stopped container succeeded";
  } catch (const crius::Error& e) {
    EXPECT_EQ(e.code(), crius::ErrorCode::failed_precondition) << e.what();
  }
}

TEST_P(MonitorExec, TimeoutKillsAndReports) {
  auto b = bundle("b", "sleep 1000");
  launch("t", *b, tmp() / "logs" / "t.log");
  auto r = client().exec_sync("t", process({"sh", "-c", "echo started; exec sleep 100"}), 500ms, 1 << 20);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_EQ(r.stdout_data, "started\n");
  // The monitor still serves.
  EXPECT_EQ(client().status("t").status, "running");
}

TEST_P(MonitorExec, OutputIsCapped) {
  auto b = bundle("b", "sleep 1000");
  launch("cap", *b, tmp() / "logs" / "cap.log");
  auto r = client().exec_sync("cap", process({"sh", "-c", "head -c 300000 /dev/zero; echo tail >&2"}), 10s, 1000);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_data, std::string(1000, '\0'));
  EXPECT_EQ(r.stderr_data, "tail\n");
  EXPECT_FALSE(r.timed_out);
}

TEST_P(MonitorExec, SlowExecDoesNotHoldUpOtherRequests) {
  auto b = bundle("b", "sleep 1000");
  launch("s", *b, tmp() / "logs" / "s.log");
  // The slow exec waits for a file that only appears after the fast calls.
  auto slow = std::async(std::launch::async, [&] {
    return client().exec_sync("s", process({"sh", "-c", "while [ ! -e /go ]; do sleep 0.02; done; echo slow"}),
                              30s, 1024);
  });
  auto fast = client().exec_sync("s", process({"echo", "fast"}), 10s, 1024);
  EXPECT_EQ(fast.stdout_data, "fast\n");
  EXPECT_EQ(client().status("s").status, "running");
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout);
  std::ofstream(b->rootfs() / "go") << "x";
  auto r = slow.get();
  EXPECT_EQ(r.stdout_data, "slow\n");
  EXPECT_FALSE(r.timed_out);
}

}  // namespace crius::testing::monitor
