// Notices a crius-pause that dies on its own (killed, OOM): one thread polls
// a pidfd per pause process, reaps it when it is the daemon's child (so that
// no zombie is left) and reports its PID, so that the pod can be marked NOTREADY.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "base/fd.h"

namespace crius::sandbox {

class PauseWatch {
 public:
  // `on_exit` runs on the watch thread, without the watch's lock held.
  explicit PauseWatch(std::function<void(pid_t)> on_exit);
  ~PauseWatch();  // stops and joins the thread; the processes are left alone
  PauseWatch(const PauseWatch&) = delete;
  PauseWatch& operator=(const PauseWatch&) = delete;

  // Watches `pid` until it exits. Returns false when it is already gone (or,
  // logged, when it cannot be watched).
  bool add(pid_t pid);

 private:
  void loop();
  void wake();

  std::function<void(pid_t)> on_exit_;
  Fd wake_;  // an eventfd: add() and the destructor wake the poll
  std::mutex mu_;
  std::map<pid_t, Fd> pidfds_;  // pid → pidfd
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace crius::sandbox
