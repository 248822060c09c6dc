// The CRI log writer on its own (no container): line splitting at the
// 16 KiB limit, lines split across reads, partial lines at EOF, size limit.
#include "oci/monitor/log_writer.h"

#include <gtest/gtest.h>

#include "tests/integration/monitor/fixture.h"

namespace crius::testing::monitor {

namespace {

struct Log {
  rt::TempDir dir{"crius-mon-log-"};
  fs::path path = dir.path() / "c.log";
  std::unique_ptr<mon::LogFile> file;
  explicit Log(uint64_t max = 0) {
    file = std::make_unique<mon::LogFile>(path.string(), max);
    file->open();
  }
  std::vector<std::string> lines() {
    file->flush();
    std::vector<std::string> out;
    for (const auto& r : read_log(path)) out.push_back(r.stream + (r.partial ? " P " : " F ") + r.content);
    return out;
  }
};

}  // namespace

TEST(MonitorLogWriter, LinesAcrossFeedsAndEmptyLines) {
  Log log;
  mon::LogStream out(log.file.get(), "stdout");
  mon::LogStream err(log.file.get(), "stderr");
  out.feed("ab", 2);
  err.feed("e1\n", 3);
  out.feed("c\n\nd", 4);
  out.finish();
  err.finish();
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"stderr F e1", "stdout F abc", "stdout F ", "stdout F d"}));
}

TEST(MonitorLogWriter, SplitsAtTheLimitOnly) {
  const size_t max = mon::LogFile::kMaxLine;
  Log log;
  mon::LogStream s(log.file.get(), "stdout");
  std::string exact(max, 'a');
  exact += '\n';
  s.feed(exact.data(), exact.size());
  std::string over(max + 1, 'b');
  over += '\n';
  // In small pieces, so that the split happens in the pending buffer.
  for (size_t i = 0; i < over.size(); i += 1000) s.feed(over.data() + i, std::min<size_t>(1000, over.size() - i));
  s.finish();
  auto l = log.lines();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0], "stdout F " + std::string(max, 'a'));
  EXPECT_EQ(l[1], "stdout P " + std::string(max, 'b'));
  EXPECT_EQ(l[2], "stdout F b");
}

TEST(MonitorLogWriter, SizeLimitDropsFurtherRecords) {
  Log log(200);
  mon::LogStream s(log.file.get(), "stdout");
  for (int i = 0; i < 20; ++i) s.feed("0123456789\n", 11);
  s.finish();
  log.file->flush();
  EXPECT_LE(fs::file_size(log.path), 200u);
  // A record: 30-byte time, " stdout F ", 10 bytes, newline = 51 bytes.
  EXPECT_EQ(log.lines().size(), 200u / 51u);
}

TEST(MonitorLogWriter, ReopenWritesToTheNewFile) {
  Log log;
  mon::LogStream s(log.file.get(), "stdout");
  s.feed("one\n", 4);
  log.file->flush();
  fs::rename(log.path, log.path.string() + ".1");
  log.file->reopen();
  s.feed("two\n", 4);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"stdout F two"}));
}

}  // namespace crius::testing::monitor
