// Exits pushed by the pods' monitors: each monitor writes an exit record
// (<monitor dir>/exits/<id>.json, by rename) the moment it reaps a
// container, and one inotify thread here hears every such directory, so the
// daemon learns of an exit at once without polling. The same thread holds a
// pidfd of each monitor, and of each container whose monitor died, and
// hears those processes end.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "base/fd.h"

namespace crius::container {

class ExitWatch {
 public:
  // `on_exit` runs on the watch thread with the container's ID.
  explicit ExitWatch(std::function<void(const std::string& id)> on_exit);
  ~ExitWatch();
  ExitWatch(const ExitWatch&) = delete;
  ExitWatch& operator=(const ExitWatch&) = delete;

  // Hears the exit records of the monitor in `monitor_dir` (idempotent; the
  // watch ends by itself when the directory goes with its pod).
  void watch(const std::string& monitor_dir);
  // Runs `on_gone` on the watch thread once process `pid` has ended; false
  // (and nothing is run) when it has already.
  bool watch_process(pid_t pid, std::function<void()> on_gone);

 private:
  void run();
  // Wakes the thread to poll the current set; `stop` ends it.
  void wake(bool stop);

  std::function<void(const std::string&)> on_exit_;
  Fd inotify_, wake_;
  std::mutex mu_;
  std::map<int, std::string> dirs_;  // by watch descriptor
  std::set<std::string> watched_;
  std::map<int, std::pair<Fd, std::function<void()>>> processes_;  // by pidfd
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace crius::container
