// Watching a config directory with inotify (the CNI config dir, the CDI spec
// dirs), so that a reader answers from what it loaded last and still sees a
// file that appears, changes or goes away, without a restart. The kernel
// queues the events as the files change; they are drained (non-blocking)
// when the answer is asked for, so a change is seen by the very next call,
// with no thread. The directory may not exist yet: then its nearest existing
// parent is watched until it is created.
#pragma once

#include <cstdint>
#include <string>

#include "base/fd.h"

namespace crius {

class DirWatch {
 public:
  // Throws crius::Error (Internal) when inotify cannot be set up.
  explicit DirWatch(std::string dir);
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  const std::string& dir() const { return dir_; }
  // Grows after every change in the directory seen so far (files created,
  // written, renamed, removed; the directory itself created or removed).
  // Not thread-safe: the caller serialises.
  uint64_t generation();

 private:
  // (Re)places the watch: the directory itself, else its nearest existing parent.
  void arm();

  std::string dir_;
  Fd inotify_;
  int watch_ = -1;
  bool watching_dir_ = false;
  uint64_t generation_ = 1;
};

}  // namespace crius
