// The owners and helpers of base/ that need no root: fds, directories, files,
// fd passing, child processes, the clock, IDs and waiting.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "base/clock.h"
#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/fd_passing.h"
#include "base/file.h"
#include "base/process.h"
#include "base/random_id.h"
#include "base/wait.h"

namespace crius {
namespace {
namespace fs = std::filesystem;

class BaseFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crius-base-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(Fd, ClosesUnlessReleasedAndMoves) {
  auto [r, w] = make_pipe("a test");
  const int rfd = r.get();
  {
    Fd moved(std::move(r));
    EXPECT_FALSE(r);
    EXPECT_EQ(moved.get(), rfd);
  }
  EXPECT_FALSE(fd_open(rfd));
  const int wfd = w.release();
  EXPECT_TRUE(fd_open(wfd));
  ::close(wfd);
}

TEST_F(BaseFiles, AtomicWriteReadAndMissingFiles) {
  const std::string p = dir_ + "/a/b/record.json";
  write_file_atomic(p, "one", 0640);
  EXPECT_EQ(read_file(p), "one");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  write_file_atomic(p, "two");
  EXPECT_EQ(read_file(p), "two");
  EXPECT_EQ(list_dir(dir_ + "/a/b"), (std::vector<std::string>{"record.json"}));  // no temporary left
  EXPECT_FALSE(read_file_if_exists(dir_ + "/missing"));
  EXPECT_EQ(read_file_or_empty(dir_ + "/missing"), "");
  try {
    read_file(dir_ + "/missing");
    FAIL() << "read_file of a missing file did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find(dir_ + "/missing"), std::string::npos);
  }
}

TEST_F(BaseFiles, MkdirAllRemoveAllAndDirListing) {
  mkdir_all(dir_ + "/x/y/z", 0700);
  write_file(dir_ + "/x/f", "data", O_CREAT);
  auto names = list_dir(dir_ + "/x");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"f", "y"}));
  EXPECT_FALSE(Dir::open_if_exists(dir_ + "/nope"));
  EXPECT_TRUE(list_dir(dir_ + "/nope").empty());
  remove_all(dir_ + "/x");
  EXPECT_FALSE(fs::exists(dir_ + "/x"));
  remove_all(dir_ + "/x");  // missing is fine
}

TEST(Errors, KernelErrnoIsNeverTheClientsFault) {
  EXPECT_EQ(errno_error("x", ENOENT).code(), ErrorCode::not_found);
  EXPECT_EQ(errno_error("x", EEXIST).code(), ErrorCode::already_exists);
  EXPECT_EQ(errno_error("x", EACCES).code(), ErrorCode::failed_precondition);
  EXPECT_EQ(errno_error("x", EINVAL).code(), ErrorCode::internal);
  EXPECT_EQ(std::string(errno_error("mounting /a", EINVAL).what()), "mounting /a: Invalid argument");
}

TEST(FdPassing, AnFdAndItsPayloadArriveTogether) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  Fd a(sv[0]), b(sv[1]);
  auto [r, w] = make_pipe("a test");
  ASSERT_EQ(send_with_fd(a.get(), "hi", 2, w.get()), 2);
  char buf[16];
  int got = -1;
  ASSERT_EQ(receive_with_fd(b.get(), buf, sizeof buf, &got), 2);
  Fd received(got);
  ASSERT_TRUE(received);
  EXPECT_EQ(std::string(buf, 2), "hi");
  EXPECT_EQ(::fcntl(received.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_TRUE(write_all(received.get(), "z", 1));
  w.reset();
  received.reset();
  char c = 0;
  EXPECT_EQ(::read(r.get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');
  // No fd: -1, and an empty message still goes as one byte.
  ASSERT_EQ(send_with_fd(a.get(), "", 0, -1), 1);
  ASSERT_EQ(receive_with_fd(b.get(), buf, sizeof buf, &got), 1);
  EXPECT_EQ(got, -1);
}

TEST(Process, OutputExitCodeAndInput) {
  auto r = run_process({"/bin/sh", "-c", "read x; echo out $x; echo err >&2; exit 3"}, {}, "in\n",
                       std::chrono::seconds(10));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out in\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Process, ProgramApartFromArgv0) {
  auto r = run_process({"my-name", "-c", "echo $0"}, {}, "", std::chrono::seconds(10), "/bin/sh");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "my-name\n");
}

TEST(Process, AFailedExecAndASignalAreReported) {
  auto r = run_process({"/nonexistent/program"}, {}, "", std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.exec_errno, ENOENT);
  r = run_process({"/bin/sh", "-c", "kill -TERM $$"}, {}, "", std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.exec_errno, 0);
}

TEST(Process, ADeadlineKillsTheWholeGroupAndReaps) {
  const auto start = std::chrono::steady_clock::now();
  // The grandchild holds stdout open; the group kill must end it too.
  auto r = run_process({"/bin/sh", "-c", "sleep 30 & sleep 30"}, {}, "", std::chrono::milliseconds(300));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(Process, ReapChildWaitsOnlyAsLongAsAsked) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  EXPECT_FALSE(reap_child(pid, std::chrono::milliseconds(20)));
  int status = 0;
  EXPECT_TRUE(kill_and_reap(pid, false, std::chrono::seconds(10), &status));
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(Clock, Rfc3339Digits) {
  const int64_t ns = 1'700'000'000'123'456'789;  // 2023-11-14T22:13:20.123456789Z
  EXPECT_EQ(rfc3339(ns), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(rfc3339(ns, 3), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339(ns, 0), "2023-11-14T22:13:20Z");
  EXPECT_GT(now_ns(), ns);
}

TEST(RandomId, HexOfTheAskedLengthAndDistinct) {
  const std::string a = random_hex(32), b = random_hex(32);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(WaitUntil, TrueAsSoonAsDoneFalseAtTheDeadline) {
  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, std::chrono::seconds(5)));
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_FALSE(wait_until([&] { return ++calls < 0; }, std::chrono::milliseconds(30)));
  EXPECT_GE(calls, 2);  // at least the first call and the last one at the deadline
}

}  // namespace
}  // namespace crius
