// Undo steps for a multi-step operation: each step that succeeds registers
// how to undo itself; unless commit() is called, they run in reverse order
// when the Rollback goes away, so a failed operation leaves nothing behind.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"

namespace crius {

class Rollback {
 public:
  // `what` names the operation in the log line of an undo step that fails.
  explicit Rollback(std::string what) : what_(std::move(what)) {}
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    if (!done_) run();
  }
  void add(std::function<void()> f) { steps_.push_back(std::move(f)); }
  void commit() { done_ = true; }
  // Undo now, while the objects the steps refer to are still alive.
  void run() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      try {
        (*it)();
      } catch (const std::exception& e) {
        log::warn("undoing a failed " + what_ + " step failed", {{"error", e.what()}});
      }
    }
    done_ = true;
  }

 private:
  std::string what_;
  std::vector<std::function<void()>> steps_;
  bool done_ = false;
};

}  // namespace crius
