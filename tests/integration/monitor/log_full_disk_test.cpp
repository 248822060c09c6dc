// The CRI log writer on a full disk (a small tmpfs filled to the last page):
// records that do not fit are dropped and counted, a record cut short is
// taken back, a line whose end was dropped is ended, and writing resumes
// once space is freed, every record in the file whole.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "oci/monitor/log_writer.h"
#include "tests/integration/monitor/fixture.h"

namespace crius::testing::monitor {

namespace {

struct FullDiskLog {
  rt::TempDir dir{"crius-mon-full-"};
  rt::HostMount disk{"tmpfs", dir.path(), "tmpfs", 0, "size=256k"};
  fs::path path = dir.path() / "c.log";
  fs::path filler = dir.path() / "filler";
  mon::LogFile file{path.string(), 0};
  mon::LogStream out{&file, "stdout"};
  mon::LogStream err{&file, "stderr"};

  FullDiskLog() { file.open(); }
  // Takes every page the disk has left.
  void fill() {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string chunk(4096, 'f');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    EXPECT_EQ(errno, ENOSPC);
    ::close(fd);
  }
  void free_space() { fs::remove(filler); }
  void line(mon::LogStream& s, const std::string& text) {
    const std::string l = text + "\n";
    s.feed(l.data(), l.size());
    file.flush();
  }
  // "<stream> <F|P> <content>" of each record; "malformed: …" for a line that is none.
  std::vector<std::string> records() {
    std::vector<std::string> out;
    for (const auto& r : read_log(path))
      out.push_back(r.stream == "malformed" ? "malformed: " + r.content
                                            : r.stream + (r.partial ? " P " : " F ") + r.content);
    return out;
  }
};

}  // namespace

// The file's last page has room for some records of a batch, not all: the
// write stops inside a record, which is cut off again.
TEST(MonitorLogFullDisk, RecordCutShortIsTakenBackAndTheRestCounted) {
  FullDiskLog log;
  log.line(log.out, "before");
  log.fill();
  const std::string text(190, 'x');
  for (int i = 0; i < 100; ++i) {
    const std::string l = std::to_string(1000 + i) + text + "\n";
    log.out.feed(l.data(), l.size());
  }
  log.file.flush();  // one write of ~22 KiB into the ~4 KiB left of the file's page
  const auto recs = log.records();
  ASSERT_GT(recs.size(), 1u) << "the page's room took some records";
  ASSERT_LT(recs.size(), 101u);
  EXPECT_EQ(recs[0], "stdout F before");
  for (size_t i = 1; i < recs.size(); ++i) EXPECT_EQ(recs[i], "stdout F " + std::to_string(999 + i) + text);
  EXPECT_EQ(log.file.dropped(), 101 - recs.size());

  log.free_space();
  log.line(log.out, "after");
  const auto now = log.records();
  ASSERT_EQ(now.size(), recs.size() + 1);
  EXPECT_EQ(now.back(), "stdout F after");
}

TEST(MonitorLogFullDisk, DropsWhileFullAndResumesWithWholeRecords) {
  FullDiskLog log;
  log.line(log.out, "one");
  log.fill();
  // Enough to fill what is left of the file's page, and then some.
  for (int i = 0; i < 200; ++i) log.line(i % 2 ? log.err : log.out, "full-" + std::to_string(i) + std::string(100, '.'));
  EXPECT_GT(log.file.dropped(), 100u);
  const auto while_full = log.records();
  for (const auto& r : while_full) EXPECT_EQ(r.rfind("malformed", 0), std::string::npos) << r;

  log.free_space();
  log.line(log.out, "two");
  log.line(log.err, "three");
  auto recs = log.records();
  ASSERT_EQ(recs.size(), while_full.size() + 2);
  EXPECT_EQ(recs[recs.size() - 2], "stdout F two");
  EXPECT_EQ(recs.back(), "stderr F three");
}

// A long line whose first piece was written and whose rest was dropped is
// ended by an empty F record before the next line, so that a reader does
// not join the piece to that line.
TEST(MonitorLogFullDisk, LineCutByTheFullDiskIsEnded) {
  FullDiskLog log;
  const std::string piece(mon::LogFile::kMaxLine, 'p');
  log.out.feed(piece.data(), piece.size());
  log.out.feed("tail", 4);  // pending: the line goes on
  log.line(log.err, "err-before");
  log.fill();
  log.line(log.out, std::string(8000, 'r'));  // the rest of the line, dropped
  EXPECT_GE(log.file.dropped(), 1u);
  log.free_space();
  log.line(log.out, "next");
  log.line(log.err, "err-after");
  EXPECT_EQ(log.records(), (std::vector<std::string>{"stdout P " + piece, "stderr F err-before", "stdout F ",
                                                     "stdout F next", "stderr F err-after"}));
}

TEST(MonitorLogFullDisk, ReopenWhileFullThenWritesToTheNewFile) {
  FullDiskLog log;
  log.line(log.out, "old");
  log.fill();
  for (int i = 0; i < 100; ++i) log.line(log.out, std::string(200, 'd'));
  fs::rename(log.path, log.path.string() + ".1");
  log.file.reopen();  // a new file takes an inode, no page
  log.free_space();
  log.line(log.out, "new");
  EXPECT_EQ(log.records(), (std::vector<std::string>{"stdout F new"}));
  for (const auto& r : read_log(log.path.string() + ".1")) EXPECT_NE(r.stream, "malformed") << r.content;
}

}  // namespace crius::testing::monitor
