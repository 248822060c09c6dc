// A bounded queue of byte chunks between the thread that downloads a layer
// and the one that unpacks it, so a layer is verified, decompressed and
// unpacked while it arrives without holding it all in memory.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>

namespace crius::image {

class BytePipe {
 public:
  explicit BytePipe(size_t limit = 8 << 20) : limit_(limit) {}

  // Producer: blocks while the queue is full. Dropped once the reader quit;
  // false once it quit asking for no more (the rest would be wasted).
  bool push(const char* data, size_t n) {
    std::unique_lock lock(mu_);
    can_push_.wait(lock, [&] { return queued_ < limit_ || reader_gone_; });
    if (reader_gone_) return !stop_producer_;
    chunks_.emplace_back(data, n);
    queued_ += n;
    can_pop_.notify_one();
    return true;
  }
  // Producer: no more bytes; `error` set when the transfer failed.
  void close(std::exception_ptr error = nullptr) {
    std::lock_guard lock(mu_);
    closed_ = true;
    error_ = error;
    can_pop_.notify_all();
  }

  // Consumer: the next chunk into `out`; false at the end. Rethrows the
  // producer's error.
  bool pop(std::string& out) {
    std::unique_lock lock(mu_);
    can_pop_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (error_) std::rethrow_exception(error_);
    if (chunks_.empty()) return false;
    out = std::move(chunks_.front());
    chunks_.pop_front();
    queued_ -= out.size();
    can_push_.notify_one();
    return true;
  }
  // Consumer: stops reading (done or failed); the producer no longer blocks,
  // and with `stop_producer` is told to stop.
  void reader_done(bool stop_producer = false) {
    std::lock_guard lock(mu_);
    reader_gone_ = true;
    stop_producer_ = stop_producer;
    chunks_.clear();
    queued_ = 0;
    can_push_.notify_all();
  }

 private:
  const size_t limit_;
  std::mutex mu_;
  std::condition_variable can_push_, can_pop_;
  std::deque<std::string> chunks_;
  size_t queued_ = 0;
  bool closed_ = false, reader_gone_ = false, stop_producer_ = false;
  std::exception_ptr error_;
};

}  // namespace crius::image
