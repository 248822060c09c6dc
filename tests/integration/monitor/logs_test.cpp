// The CRI log: long lines split P…F, 100 MB without a lost line, reopen.
#include <fstream>

#include "tests/integration/monitor/fixture.h"

namespace crius::testing::monitor {

CRIUS_MONITOR_SUITE(MonitorLogs);

TEST_P(MonitorLogs, LongLineIsSplitIntoPartialRecords) {
  // 40000 bytes then a newline: 16384 P, 16384 P, 7232 F.
  auto b = bundle("b", "head -c 40000 /dev/zero | tr '\\0' x; echo; echo short");
  const fs::path log = tmp() / "logs" / "long.log";
  launch("long", *b, log);
  ASSERT_TRUE(wait_status("long", "stopped"));
  auto records = read_log(log);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_TRUE(records[0].partial);
  EXPECT_EQ(records[0].content.size(), 16384u);
  EXPECT_TRUE(records[1].partial);
  EXPECT_EQ(records[1].content.size(), 16384u);
  EXPECT_FALSE(records[2].partial);
  EXPECT_EQ(records[2].content.size(), 40000u - 2 * 16384u);
  EXPECT_EQ(records[0].content + records[1].content + records[2].content, std::string(40000, 'x'));
  EXPECT_FALSE(records[3].partial);
  EXPECT_EQ(records[3].content, "short");
}

TEST_P(MonitorLogs, HundredMegabytesLoseNoLine) {
  // 1,000,000 lines of 100 bytes on stdout, 10,000 on stderr at the same time.
  auto b = bundle("b",
                  "(yes eeeeeeeeeeeeeeeeeeee | head -n 10000 >&2) & "
                  "yes 012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                  "012345678 | head -n 1000000; wait");
  const fs::path log = tmp() / "logs" / "big.log";
  launch("big", *b, log);
  ASSERT_TRUE(wait_status("big", "stopped", 150s));
  std::ifstream in(log);
  std::string line;
  size_t out = 0, err = 0, bad = 0;
  while (std::getline(in, line)) {
    LogRecord r;
    if (!parse_log_line(line, &r) || r.partial) {
      ++bad;
      continue;
    }
    if (r.stream == "stdout" && r.content.size() == 99 && r.content.compare(0, 10, "0123456789") == 0)
      ++out;
    else if (r.stream == "stderr" && r.content == "eeeeeeeeeeeeeeeeeeee")
      ++err;
    else
      ++bad;
  }
  EXPECT_EQ(out, 1000000u);
  EXPECT_EQ(err, 10000u);
  EXPECT_EQ(bad, 0u);
}

TEST_P(MonitorLogs, ReopenAfterRotation) {
  auto b = bundle("b", "echo before; while [ ! -e /go ]; do sleep 0.02; done; echo after; sleep 1000");
  const fs::path log = tmp() / "logs" / "rot.log";
  launch("rot", *b, log);
  ASSERT_TRUE(wait_log(log, "before"));
  fs::rename(log, tmp() / "logs" / "rot.log.1");
  client().reopen_log("rot");
  std::ofstream(b->rootfs() / "go") << "x";
  ASSERT_TRUE(wait_log(log, "after"));
  auto old = read_log(tmp() / "logs" / "rot.log.1");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].content, "before");
  auto now = read_log(log);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].content, "after");
}

TEST_P(MonitorLogs, SizeLimitStopsWriting) {
  auto b = bundle("b", "yes abcdefghi | head -n 1000");
  const fs::path log = tmp() / "logs" / "max.log";
  b->write();
  auto o = options("max", *b, log);
  o.log_size_max = 4096;
  client().create(o);
  client().start("max");
  ASSERT_TRUE(wait_status("max", "stopped"));
  EXPECT_LE(fs::file_size(log), 4096u);
  EXPECT_GT(fs::file_size(log), 3000u);
}

TEST_P(MonitorLogs, TtyOutputIsLogged) {
  auto b = bundle("b", "echo hello-tty; tty");
  b->spec["process"]["terminal"] = true;
  const fs::path log = tmp() / "logs" / "tty.log";
  b->write();
  auto o = options("tty", *b, log);
  o.tty = true;
  client().create(o);
  client().start("tty");
  ASSERT_TRUE(wait_status("tty", "stopped"));
  // runc and crun leave the pty's ONLCR on (lines end in \r\n); the builtin
  // runtime's pty does not translate: either is the process's terminal output.
  ASSERT_TRUE(wait_log(log, "hello-tty\r", 1s) || wait_log(log, "hello-tty")) << rt::read_file(log);
  EXPECT_TRUE(wait_log(log, "/dev/pts/0\r", 1s) || wait_log(log, "/dev/pts/0")) << rt::read_file(log);
  auto st = client().status("tty");
  ASSERT_TRUE(st.exit);
  EXPECT_EQ(st.exit->exit_code, 0);
}

}  // namespace crius::testing::monitor
