// The CRI log format, as kubelet reads it: one record per line of output,
//   <RFC3339Nano UTC time> <stdout|stderr> <F|P> <content>\n
// where P marks a piece of a line longer than kMaxLine (the rest follows)
// and F the end of a line. A partial line at EOF is written as F.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fd.h"

namespace crius::oci::monitor {

// The container's log file, shared by its stdout and stderr. Records are
// gathered in a buffer and written with flush(); writes are complete
// (short writes retried), so that no line is lost under load.
//
// A write that fails (a full disk: ENOSPC, EDQUOT) drops the records that
// did not fit, counts them, and logs once when dropping starts and once when
// writing has worked again for kSettle; the container is never held up. A record cut short by
// the failure is cut off the file again, and a line whose P pieces were
// written but whose rest was dropped is ended with an empty F record when
// writing resumes, so every record in the file stays whole and no line is
// glued to another.
class LogFile {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  // path empty: output is discarded. max_bytes 0: no limit.
  LogFile(std::string path, uint64_t max_bytes);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Opens (creating) the file for appending. Throws crius::Error naming it.
  void open();
  // Closes and opens the path again (kubelet renamed the old file). Throws,
  // keeping the old file, when the new one cannot be made.
  void reopen();
  void record(std::string_view stream, bool partial, std::string_view content);
  void flush();
  const std::string& path() const { return path_; }
  // Records dropped because they could not be written, since the start.
  uint64_t dropped() const { return dropped_; }

 private:
  void write_batch();
  void write_failed(size_t done, int err);
  std::string repair_head();
  void take_back(size_t n);

  std::string path_;
  uint64_t max_bytes_;
  uint64_t written_ = 0;
  bool limit_logged_ = false;
  Fd fd_;
  std::string buf_;
  // The timestamp is formatted once per flush batch; empty: not yet.
  std::string stamp_;

  // Write failures (index 0 stdout, 1 stderr).
  static constexpr std::chrono::seconds kSettle{5};
  bool failing_ = false;           // dropping was logged, writing again not yet
  std::chrono::steady_clock::time_point last_failure_;
  uint64_t dropped_ = 0;
  uint64_t dropped_before_ = 0;    // dropped_ when the current failure began
  bool torn_ = false;              // the file ends in a cut record that could not be cut off
  bool open_[2] = {};              // the stream's last record taken was a P piece
  bool open_written_[2] = {};      // ... its last record in the file was
  bool cut_[2] = {};               // records of the stream were dropped after its last one in the file
  bool appended_[2] = {};          // the stream has records in buf_
  size_t head_size_ = 0;           // bytes of repair_head() in front of buf_
};

// Splits one stream's bytes into lines and records them in a LogFile.
class LogStream {
 public:
  LogStream(LogFile* file, std::string_view name) : file_(file), name_(name) {}
  void feed(const char* data, size_t n);
  // End of the stream: a pending partial line becomes an F record.
  void finish();

 private:
  LogFile* file_;
  std::string_view name_;
  std::string pending_;
};

}  // namespace crius::oci::monitor
