// exec and attach streams: frames both ways, tty and pipes, stdin, resize,
// exit codes, backpressure, a client that goes away, several attach
// clients, stdin_once; and the frame reader alone.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "tests/integration/monitor/fixture.h"
#include "tests/support/eventually.h"

namespace crius::testing::monitor {

namespace proto = mon::protocol;

namespace {

bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// The fd count once the monitor is done with the calls just answered (it
// sees a client's close after the answer).
size_t settled_fd_count(pid_t pid) {
  size_t n = fd_count(pid);
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(100ms);
    const size_t m = std::exchange(n, fd_count(pid));
    if (m == n) break;
  }
  return n;
}

}  // namespace

// ---- the frame reader (no monitor)

TEST(FrameReader, CutsFramesWhereverTheBytesSplit) {
  const std::string bytes = proto::encode_frame(proto::Channel::stdout, "hello") +
                            proto::encode_frame(proto::Channel::stdin, "") +
                            proto::encode_frame(proto::Channel::stderr, std::string(70000, 'x')) +
                            proto::encode_frame(proto::Channel::exit, proto::exit_payload(7));
  for (size_t step : {size_t{1}, size_t{3}, size_t{4096}, bytes.size()}) {
    proto::FrameReader r;
    std::vector<proto::Frame> frames;
    for (size_t off = 0; off < bytes.size(); off += step) {
      r.feed(std::string_view(bytes).substr(off, step));
      while (auto f = r.next()) frames.push_back(std::move(*f));
    }
    ASSERT_EQ(frames.size(), 4u) << "step " << step;
    EXPECT_EQ(frames[0].channel, proto::Channel::stdout);
    EXPECT_EQ(frames[0].payload, "hello");
    EXPECT_EQ(frames[1].channel, proto::Channel::stdin);
    EXPECT_TRUE(frames[1].payload.empty());
    EXPECT_EQ(frames[2].payload, std::string(70000, 'x'));
    EXPECT_EQ(proto::decode(frames[3].payload).value("exit_code", -1), 7);
    EXPECT_EQ(r.buffered(), 0u);
  }
}

TEST(FrameReader, RefusesOversizedAndUnknownFrames) {
  proto::FrameReader r(1024);
  const std::string big = proto::encode_frame(proto::Channel::stdin, std::string(1025, 'a'));
  r.feed(std::string_view(big).substr(0, 5));  // the header alone is enough to refuse
  EXPECT_THROW(r.next(), crius::Error);
  proto::FrameReader u;
  u.feed(std::string("\x09\0\0\0\0", 5));
  EXPECT_THROW(u.next(), crius::Error);
  // The encoder refuses what the reader would.
  EXPECT_THROW(proto::encode_frame(proto::Channel::stdout, std::string(proto::kMaxFrame + 1, 'a')), crius::Error);
  EXPECT_NO_THROW(proto::encode_frame(proto::Channel::stdout, std::string(proto::kMaxFrame, 'a')));
}

// A monitor of protocol version 2 (before streams): the client refuses
// early, naming the version. Played by a socket that answers hello.
TEST(StreamClientVersion, OlderMonitorIsUnimplemented) {
  rt::TempDir dir("crius-mon-v2-");
  const std::string path = (dir.path() / proto::kSocketName).string();
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  struct sockaddr_un a {};
  a.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof a.sun_path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  std::thread old([&] {
    Fd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) return;
    unsigned char head[4];
    if (::read(c.get(), head, 4) != 4) return;
    std::string body(proto::frame_length(head), '\0');
    if (::read(c.get(), body.data(), body.size()) != static_cast<ssize_t>(body.size())) return;
    const std::string reply = proto::encode({{"ok", true}, {"version", 2}, {"pid", 1}});
    (void)!::write(c.get(), reply.data(), reply.size());
  });
  auto m = mon::Client::connect(dir.path().string());
  old.join();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version(), 2);
  for (int i = 0; i < 2; ++i) {
    try {
      if (i == 0)
        m->exec_stream("c1", {{"args", {"true"}}}, false, false);
      else
        m->attach_stream("c1", false);
      ADD_FAILURE() << "a stream was opened on a version 2 monitor";
    } catch (const crius::Error& e) {
      EXPECT_EQ(e.code(), crius::ErrorCode::unimplemented) << e.what();
      EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("c1"), std::string::npos) << e.what();
    }
  }
}

// ---- exec

CRIUS_MONITOR_SUITE(MonitorStream);

TEST_P(MonitorStream, ExecWithoutTty) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"sh", "-c", "echo hi; echo err >&2; exit 7"}), false, false));
  EXPECT_GT(s.pid(), 0);
  EXPECT_FALSE(s.tty());
  ASSERT_TRUE(s.wait_exit()) << s.out << s.err;
  EXPECT_EQ(*s.exit_code, 7);
  EXPECT_EQ(s.out, "hi\n");
  EXPECT_EQ(s.err, "err\n");
  EXPECT_TRUE(s.wait_closed(5s)) << "the monitor keeps the stream open after the exit frame";
  EXPECT_FALSE(s.frame_after_exit);

  StreamClient ok(client().exec_stream("c", process({"echo", "hi"}), false, false));
  ASSERT_TRUE(ok.wait_exit());
  EXPECT_EQ(*ok.exit_code, 0);
  EXPECT_EQ(ok.out, "hi\n");
}

TEST_P(MonitorStream, ExecWithTty) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"sh", "-c", "echo hi; tty; echo err >&2"}), true, false));
  EXPECT_TRUE(s.tty());
  ASSERT_TRUE(s.wait_exit()) << s.out;
  EXPECT_EQ(*s.exit_code, 0);
  // One terminal for all: stderr arrives on stdout; runc and crun leave ONLCR on.
  EXPECT_NE(s.out.find("hi"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("/dev/pts/"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("err"), std::string::npos) << s.out;
  EXPECT_EQ(s.err, "");
}

TEST_P(MonitorStream, StdinRoundTripThroughCat) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"cat"}), false, true));
  s.write_stdin("hello\n");
  ASSERT_TRUE(s.wait_out("hello\n")) << s.out;
  // Binary and larger than a pipe's buffer, in several frames.
  std::string blob;
  for (int i = 0; i < 300000; ++i) blob.push_back(static_cast<char>(i * 7));
  for (size_t off = 0; off < blob.size(); off += 50000) s.write_stdin(std::string_view(blob).substr(off, 50000));
  s.close_stdin();
  ASSERT_TRUE(s.wait_exit()) << s.out.size();
  EXPECT_EQ(*s.exit_code, 0);
  EXPECT_EQ(s.out, "hello\n" + blob);
}

TEST_P(MonitorStream, ExecWithoutStdinReadsDevNull) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"sh", "-c", "cat; echo end"}), false, false));
  s.write_stdin("ignored\n");  // dropped: no stdin was asked for
  ASSERT_TRUE(s.wait_exit());
  EXPECT_EQ(s.out, "end\n");
}

TEST_P(MonitorStream, ResizeReachesTheProcess) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"sh", "-c", "read x; stty size; read y; stty size"}), true, true));
  s.resize(100, 40);
  s.write_stdin("go\n");
  ASSERT_TRUE(s.wait_out("40 100")) << s.out;
  s.resize(132, 50);
  s.write_stdin("again\n");
  ASSERT_TRUE(s.wait_out("50 132")) << s.out;
  ASSERT_TRUE(s.wait_exit());
  EXPECT_EQ(*s.exit_code, 0);
  // Resize without a tty is ignored. The process waits for its input, so
  // that the resize cannot come after its exit closed the stream.
  StreamClient p(client().exec_stream("c", process({"sh", "-c", "read x; echo x"}), false, true));
  p.resize(10, 10);
  p.write_stdin("\n");
  ASSERT_TRUE(p.wait_exit());
  EXPECT_EQ(p.out, "x\n");
}

TEST_P(MonitorStream, ExitCodeOfAKilledProcess) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"sh", "-c", "kill -9 $$"}), false, false));
  ASSERT_TRUE(s.wait_exit());
  EXPECT_EQ(*s.exit_code, 128 + SIGKILL);
}

TEST_P(MonitorStream, ClientGoneHangsUpAndLeavesNothing) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  // Settle the monitor's own fds (its log, the runtime's first use).
  client().exec_sync("c", process({"true"}), 10s, 1024);
  const size_t fds = settled_fd_count(monitor_pid_);
  {
    // A process that dies of the hang-up, on a terminal, mid-stream.
    StreamClient s(client().exec_stream("c", process({"sh", "-c", "echo ready; exec sleep 1000"}), true, true));
    ASSERT_TRUE(s.wait_out("ready"));
    const pid_t pid = s.pid();
    s.close();
    EXPECT_TRUE(eventually([&] { return gone(pid); }, 5s)) << "exec " << pid << " outlived its client";
  }
  {
    // One that ignores SIGHUP, with pipes: killed after the grace period.
    StreamClient s(client().exec_stream(
        "c", process({"sh", "-c", "trap '' HUP; echo ready; while :; do sleep 0.1; done"}), false, true));
    ASSERT_TRUE(s.wait_out("ready"));
    const pid_t pid = s.pid();
    s.close();
    std::this_thread::sleep_for(500ms);
    EXPECT_FALSE(gone(pid)) << "SIGHUP ignored, yet the process went at once";
    EXPECT_TRUE(eventually([&] { return gone(pid); }, 10s)) << "exec " << pid << " was not killed after the grace";
  }
  EXPECT_TRUE(eventually([&] { return fd_count(monitor_pid_) == fds; }, 5s))
      << "monitor fds: " << fd_count(monitor_pid_) << ", before: " << fds;
  EXPECT_EQ(client().status("c").status, "running");
}

TEST_P(MonitorStream, SlowReaderHoldsUpTheProcess) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  // Four times what the monitor buffers (kStreamOutputCap) and more than
  // the pipe and the socket hold besides, so the process must block; no
  // more, since on a loaded 2-core machine (CI builds the sanitized tree
  // meanwhile) the relay has been seen to crawl at 330 KB/s for a minute.
  constexpr size_t kTotal = 4u << 20;
  StreamClient s(client().exec_stream(
      "c", process({"sh", "-c", "head -c " + std::to_string(kTotal) + " /dev/zero; echo done >&2"}), false, false));
  s.keep_output = false;
  // Nothing read: the process blocks on its full pipe instead of exiting
  // with its output buffered in the monitor.
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(gone(s.pid()));
  ASSERT_TRUE(s.wait_exit(30s)) << s.out_bytes;
  EXPECT_EQ(s.out_bytes, kTotal);
  EXPECT_EQ(s.err, "done\n");
  EXPECT_EQ(*s.exit_code, 0);
}

TEST_P(MonitorStream, OversizedFrameClosesTheStream) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log");
  StreamClient s(client().exec_stream("c", process({"cat"}), false, true));
  const uint32_t n = proto::kMaxFrame + 1;
  const char head[5] = {0, static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                        static_cast<char>(n)};
  s.send_raw(std::string_view(head, 5));
  EXPECT_TRUE(s.wait_closed(5s));
  EXPECT_FALSE(s.exit_code);
  const pid_t pid = s.pid();
  EXPECT_TRUE(eventually([&] { return gone(pid); }, 5s));
  EXPECT_EQ(client().status("c").status, "running");
}

TEST_P(MonitorStream, RefusedWhenNotRunning) {
  auto b = bundle("b", "sleep 1000");
  launch("c", *b, tmp() / "logs" / "c.log", /*start=*/false);
  for (int i = 0; i < 2; ++i) {
    try {
      if (i == 0)
        client().attach_stream("c", false);
      else
        client().exec_stream("c", process({"true"}), false, false);
      ADD_FAILURE() << "a stream to a created container was opened";
    } catch (const crius::Error& e) {
      EXPECT_EQ(e.code(), crius::ErrorCode::failed_precondition) << e.what();
      EXPECT_NE(std::string(e.what()).find("c"), std::string::npos);
    }
  }
  try {
    client().attach_stream("nope", false);
    ADD_FAILURE() << "attached to an unknown container";
  } catch (const crius::Error& e) {
    EXPECT_EQ(e.code(), crius::ErrorCode::not_found) << e.what();
  }
}

// ---- attach

TEST_P(MonitorStream, TwoAttachClientsAndTheLog) {
  auto b = bundle("b", "i=0; while :; do i=$((i+1)); echo tick-$i; echo tock-$i >&2; sleep 0.02; done");
  const fs::path log = tmp() / "logs" / "a.log";
  launch("a", *b, log);
  StreamClient one(client().attach_stream("a", false));
  StreamClient two(client().attach_stream("a", true));  // no stdin to give: goes on without
  EXPECT_FALSE(one.tty());
  ASSERT_TRUE(one.wait_out("tick-"));
  ASSERT_TRUE(two.wait_out("tick-"));
  ASSERT_TRUE(one.read_until([&] { return one.err.find("tock-") != std::string::npos; }));
  two.write_stdin("dropped\n");
  // The log keeps getting lines while clients are attached.
  const size_t before = read_log(log).size();
  EXPECT_TRUE(eventually([&] { return read_log(log).size() > before + 10; }, 10s));
  // One leaves; the other goes on.
  one.close();
  two.out.clear();
  ASSERT_TRUE(two.wait_out("tick-"));
  ASSERT_TRUE(two.wait_out("\n"));
  client().kill("a", SIGKILL, false);
  ASSERT_TRUE(two.wait_exit());
  EXPECT_EQ(*two.exit_code, 128 + SIGKILL);
  EXPECT_TRUE(two.wait_closed(5s));
}

TEST_P(MonitorStream, ExitFrameToEveryAttacher) {
  auto b = bundle("b", "while [ ! -e /go ]; do sleep 0.02; done; echo bye; exit 3");
  launch("a", *b, tmp() / "logs" / "a.log");
  StreamClient one(client().attach_stream("a", false));
  StreamClient two(client().attach_stream("a", false));
  std::ofstream(b->rootfs() / "go") << "x";
  ASSERT_TRUE(one.wait_exit());
  ASSERT_TRUE(two.wait_exit());
  EXPECT_EQ(*one.exit_code, 3);
  EXPECT_EQ(*two.exit_code, 3);
  EXPECT_EQ(one.out, "bye\n");
  EXPECT_EQ(two.out, "bye\n");
  EXPECT_TRUE(one.wait_closed(5s));
  ASSERT_TRUE(wait_status("a", "stopped"));
  try {
    client().attach_stream("a", false);
    ADD_FAILURE() << "attached to a stopped container";
  } catch (const crius::Error& e) {
    EXPECT_EQ(e.code(), crius::ErrorCode::failed_precondition) << e.what();
  }
}

TEST_P(MonitorStream, AttachStdinOnce) {
  auto b = bundle("b", "while read l; do echo got-$l; done; echo eof");
  const fs::path log = tmp() / "logs" / "a.log";
  b->write();
  auto o = options("a", *b, log);
  o.stdin = true;
  o.stdin_once = true;
  client().create(o);
  client().start("a");
  StreamClient watcher(client().attach_stream("a", false));
  StreamClient s(client().attach_stream("a", true));
  s.write_stdin("one\n");
  ASSERT_TRUE(s.wait_out("got-one\n")) << s.out;
  ASSERT_TRUE(watcher.wait_out("got-one\n")) << watcher.out;
  // Without stdin asked for, a client's stdin is dropped.
  watcher.write_stdin("two\n");
  s.write_stdin("three\n");
  ASSERT_TRUE(s.wait_out("got-three\n")) << s.out;
  EXPECT_EQ(s.out.find("got-two"), std::string::npos);
  // The stdin user leaves: with stdin_once the container sees EOF.
  s.close();
  ASSERT_TRUE(watcher.wait_exit()) << watcher.out;
  EXPECT_NE(watcher.out.find("eof\n"), std::string::npos) << watcher.out;
  EXPECT_EQ(*watcher.exit_code, 0);
  EXPECT_TRUE(wait_log(log, "got-one"));
  EXPECT_TRUE(wait_log(log, "eof"));
}

TEST_P(MonitorStream, AttachStdinEmptyFrameClosesWithStdinOnce) {
  auto b = bundle("b", "cat; echo eof");
  b->write();
  auto o = options("a", *b, tmp() / "logs" / "a.log");
  o.stdin = true;
  o.stdin_once = true;
  client().create(o);
  client().start("a");
  StreamClient s(client().attach_stream("a", true));
  s.write_stdin("data\n");
  ASSERT_TRUE(s.wait_out("data\n"));
  s.close_stdin();
  ASSERT_TRUE(s.wait_exit()) << s.out;
  EXPECT_EQ(s.out, "data\neof\n");
}

TEST_P(MonitorStream, AttachToATtyWithResize) {
  auto b = bundle("b", "while read l; do echo got-$l; stty size; done");
  b->spec["process"]["terminal"] = true;
  b->write();
  auto o = options("a", *b, tmp() / "logs" / "a.log");
  o.tty = true;
  o.stdin = true;
  client().create(o);
  client().start("a");
  StreamClient s(client().attach_stream("a", true));
  EXPECT_TRUE(s.tty());
  s.resize(120, 50);
  s.write_stdin("x\n");
  ASSERT_TRUE(s.wait_out("50 120")) << s.out;
  EXPECT_NE(s.out.find("got-x"), std::string::npos);
  EXPECT_EQ(s.err, "");
  s.close();
  // A terminal's stdin survives its client.
  StreamClient t(client().attach_stream("a", true));
  t.resize(81, 25);
  t.write_stdin("y\n");
  ASSERT_TRUE(t.wait_out("25 81")) << t.out;
}

TEST_P(MonitorStream, SlowAttachClientIsDisconnected) {
  // Lines of 1000 bytes, as fast as the shell writes them.
  auto b = bundle("b", "l=$(head -c 999 /dev/zero | tr '\\0' x); while :; do echo $l; done");
  const fs::path log = tmp() / "logs" / "a.log";
  b->write();
  auto o = options("a", *b, log);
  o.log_size_max = 1 << 20;  // the log keeps being fed, not kept
  client().create(o);
  client().start("a");
  StreamClient slow(client().attach_stream("a", false));
  int rcv = 4096;
  ::setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  std::this_thread::sleep_for(3s);
  // Behind by more than the cap: the monitor closed it; the container runs on.
  slow.keep_output = false;
  EXPECT_TRUE(slow.wait_closed(20s)) << slow.out_bytes;
  EXPECT_FALSE(slow.exit_code);
  EXPECT_EQ(client().status("a").status, "running");
}

}  // namespace crius::testing::monitor
