// The CRI log format, as kubelet reads it: one record per line of output,
//   <RFC3339Nano UTC time> <stdout|stderr> <F|P> <content>\n
// where P marks a piece of a line longer than kMaxLine (the rest follows)
// and F the end of a line. A partial line at EOF is written as F.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/fd.h"

namespace crius::oci::monitor {

// The container's log file, shared by its stdout and stderr. Records are
// gathered in a buffer and written with flush(); writes are complete
// (short writes retried), so that no line is lost under load.
class LogFile {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  // path empty: output is discarded. max_bytes 0: no limit.
  LogFile(std::string path, uint64_t max_bytes);
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Opens (creating) the file for appending. Throws crius::Error naming it.
  void open();
  // Closes and opens the path again (kubelet renamed the old file).
  void reopen();
  void record(std::string_view stream, bool partial, std::string_view content);
  void flush();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uint64_t max_bytes_;
  uint64_t written_ = 0;
  bool limit_logged_ = false;
  Fd fd_;
  std::string buf_;
  // The timestamp is formatted once per flush batch; empty: not yet.
  std::string stamp_;
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
