#include "oci/monitor/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

namespace crius::oci::monitor {

namespace {

constexpr std::string_view kStreams[2] = {"stdout", "stderr"};

int stream_index(std::string_view stream) { return stream == kStreams[1] ? 1 : 0; }

// Calls fn(stream index, partial, offset) for each record among the whole
// lines of `bytes`; a line that is no record (the end of a torn one) is skipped.
template <typename Fn>
void each_record(std::string_view bytes, Fn fn) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) nl = bytes.size();
    const std::string_view line = bytes.substr(pos, nl - pos);
    const size_t sp = line.find(' ');
    if (sp != std::string_view::npos && line.size() >= sp + 9)
      fn(stream_index(line.substr(sp + 1, 6)), line[sp + 8] == 'P', pos);
    pos = nl + 1;
  }
}

}  // namespace

LogFile::LogFile(std::string path, uint64_t max_bytes) : path_(std::move(path)), max_bytes_(max_bytes) {}

LogFile::~LogFile() {
  if (failing_)
    log::warn("log file closed after dropping output",
              {{"path", path_}, {"dropped_lines", std::to_string(dropped_ - dropped_before_)}});
}

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
  // A new file: nothing of the old one's to mend.
  torn_ = false;
  for (int s : {0, 1}) open_[s] = open_written_[s] = cut_[s] = false;
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
  const int s = stream_index(stream);
  open_[s] = partial;
  appended_[s] = true;
  if (buf_.size() >= 64 * 1024) flush();
}

void LogFile::flush() {
  stamp_.clear();
  if (buf_.empty()) return;
  if (fd_) write_batch();
  buf_.clear();
  appended_[0] = appended_[1] = false;
  // Keep the buffer small between bursts: one monitor per pod on every node.
  if (buf_.capacity() > 128 * 1024) buf_.shrink_to_fit();
}

void LogFile::write_batch() {
  head_size_ = 0;
  if (torn_ || cut_[0] || cut_[1]) {
    const std::string head = repair_head();
    buf_.insert(0, head);
    head_size_ = head.size();
  }
  size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_.get(), buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return write_failed(done, n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  torn_ = false;
  for (int s : {0, 1}) {
    open_written_[s] = open_[s];
    cut_[s] = false;
  }
  // Writing has resumed once it has worked for a while: a disk that is just
  // full takes a short record now and then, which is one episode, not many.
  if (failing_ && std::chrono::steady_clock::now() - last_failure_ >= kSettle) {
    failing_ = false;
    log::info("writing the log file again", {{"path", path_}, {"dropped_lines", std::to_string(dropped_ - dropped_before_)}});
  }
}

// What the file needs before new records after drops: the end of a torn
// record's line, and an F record ending each line whose rest was dropped.
std::string LogFile::repair_head() {
  std::string head = torn_ ? "\n" : "";
  for (int s : {0, 1}) {
    if (!open_written_[s] || !cut_[s]) continue;
    head += rfc3339(now_ns(), 9);
    head += ' ';
    head += kStreams[s];
    head += " F \n";
    if (!appended_[s]) open_[s] = false;
  }
  return head;
}

// `done` bytes of buf_ reached the file before the write failed with `err`.
void LogFile::write_failed(size_t done, int err) {
  if (torn_ && done > 0) torn_ = false;  // the head's line break went out
  size_t whole = 0;
  if (done > 0) {
    const size_t nl = buf_.rfind('\n', done - 1);
    whole = nl == std::string::npos ? 0 : nl + 1;
  }
  if (done > whole) take_back(done - whole);
  const std::string_view all(buf_);
  each_record(all.substr(0, whole), [&](int s, bool partial, size_t) {
    open_written_[s] = partial;
    cut_[s] = false;
  });
  uint64_t lost = 0;
  each_record(all.substr(whole), [&](int s, bool, size_t at) {
    cut_[s] = true;
    if (whole + at >= head_size_) ++lost;  // the head's own records are not output
  });
  for (int s : {0, 1}) open_[s] = open_written_[s];
  const uint64_t lost_bytes = buf_.size() - whole;
  written_ = written_ > lost_bytes ? written_ - lost_bytes : 0;
  dropped_ += lost;
  last_failure_ = std::chrono::steady_clock::now();
  if (!failing_) {
    failing_ = true;
    dropped_before_ = dropped_ - lost;
    log::warn("writing the log file failed; dropping output until it can be written again",
              {{"path", path_}, {"error", errno_text("write", err)}});
  }
}

// Cuts the last n bytes (a record cut short) off the file, so that the next
// record starts a line of its own. The file is opened O_APPEND: later
// writes land at the new end.
void LogFile::take_back(size_t n) {
  struct stat st;
  const off_t cut = static_cast<off_t>(n);
  if (::fstat(fd_.get(), &st) == 0 && ::ftruncate(fd_.get(), st.st_size - std::min(cut, st.st_size)) == 0) return;
  torn_ = true;
  log::warn("cutting a partly written record off the log file failed",
            {{"path", path_}, {"error", errno_text("truncating", errno)}});
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
