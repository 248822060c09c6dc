#include "oci/monitor/log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"

namespace crius::oci::monitor {

LogFile::LogFile(std::string path, uint64_t max_bytes) : path_(std::move(path)), max_bytes_(max_bytes) {}

void LogFile::open() {
  if (path_.empty()) return;
  Fd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) throw_errno("open log file " + path_);
  fd_ = std::move(fd);
}

void LogFile::reopen() {
  flush();
  open();
  written_ = 0;
  limit_logged_ = false;
}

void LogFile::record(std::string_view stream, bool partial, std::string_view content) {
  if (!fd_) return;
  if (stamp_.empty()) stamp_ = rfc3339(now_ns(), 9);
  const size_t size = stamp_.size() + 1 + stream.size() + 3 + content.size() + 1;
  if (max_bytes_ && written_ + size > max_bytes_) {
    if (!limit_logged_) {
      log::warn("log size limit reached, dropping further output", {{"path", path_}});
      limit_logged_ = true;
    }
    return;
  }
  written_ += size;
  buf_.append(stamp_);
  buf_.push_back(' ');
  buf_.append(stream);
  buf_.append(partial ? " P " : " F ");
  buf_.append(content);
  buf_.push_back('\n');
  if (buf_.size() >= 64 * 1024) flush();
}

void LogFile::flush() {
  stamp_.clear();
  if (buf_.empty()) return;
  if (fd_ && !write_all(fd_.get(), buf_.data(), buf_.size()))
    log::error("writing the log file failed", {{"path", path_}, {"error", std::strerror(errno)}});
  buf_.clear();
  // Keep the buffer small between bursts: one monitor per pod on every node.
  if (buf_.capacity() > 128 * 1024) buf_.shrink_to_fit();
}

void LogStream::feed(const char* data, size_t n) {
  const char* end = data + n;
  while (data < end) {
    const char* nl = static_cast<const char*>(std::memchr(data, '\n', end - data));
    const char* stop = nl ? nl : end;
    // Whole kMaxLine pieces of a long line are written as P records.
    while (static_cast<size_t>(stop - data) + pending_.size() > LogFile::kMaxLine) {
      const size_t take = LogFile::kMaxLine - pending_.size();
      if (pending_.empty()) {
        file_->record(name_, true, std::string_view(data, take));
      } else {
        pending_.append(data, take);
        file_->record(name_, true, pending_);
        pending_.clear();
      }
      data += take;
    }
    if (nl) {
      if (pending_.empty()) {
        file_->record(name_, false, std::string_view(data, nl - data));
      } else {
        pending_.append(data, nl - data);
        file_->record(name_, false, pending_);
        pending_.clear();
      }
      data = nl + 1;
    } else {
      pending_.append(data, end - data);
      data = end;
    }
  }
  if (pending_.empty() && pending_.capacity() > 0) std::string().swap(pending_);
}

void LogStream::finish() {
  if (!pending_.empty()) file_->record(name_, false, pending_);
  std::string().swap(pending_);
}

}  // namespace crius::oci::monitor
