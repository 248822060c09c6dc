// Exits pushed by the pods' monitors: each monitor writes an exit record
// (<monitor dir>/exits/<id>.json, by rename) the moment it reaps a
// container, and one inotify thread here hears every such directory, so the
// daemon learns of an exit at once without polling.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

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

 private:
  void run();

  std::function<void(const std::string&)> on_exit_;
  Fd inotify_, wake_;
  std::mutex mu_;
  std::map<int, std::string> dirs_;  // by watch descriptor
  std::set<std::string> watched_;
  std::thread thread_;
};

}  // namespace crius::container
