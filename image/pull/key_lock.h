// One pull at a time per blob or layer among every process that pulls into
// a store (each pull is its own crius-pull): an exclusive flock on
// <dir>/lock-<key>, removed when released. Whoever waited for it then finds
// the blob or layer present and does nothing.
#pragma once

#include <string>

#include "base/fd.h"

namespace crius::image {

class KeyLock {
 public:
  // Blocks until held. Throws naming the lock file when it cannot be made.
  KeyLock(const std::string& dir, const std::string& key);
  ~KeyLock();
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;

 private:
  std::string path_;
  Fd fd_;
};

}  // namespace crius::image
