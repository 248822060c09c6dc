// What an idle monitor keeps resident. One monitor runs per pod and spends
// nearly all its life blocked in epoll_wait; the pages its requests touched
// (the runtime library's create path, JSON, start-up code of the static
// binary) stay mapped, and every fault maps a whole fault-around window
// (64 kB) with it. IdleTrim unmaps them once the monitor has been idle for a
// while: clean code and constant pages of the executable (still in the page
// cache, shared with every other monitor, faulted back in on the next
// request), the heap's free pages and the unused part of the stack.
#pragma once

#include <cstddef>
#include <vector>

namespace crius::oci::monitor {

class IdleTrim {
 public:
  // Finds the executable's read-only mappings that hold no private pages.
  // Call after start-up: RELRO pages, written by start-up relocations, are
  // private (anonymous) by then and so are left alone.
  void init();
  // Gives the pages back. Cheap (a few madvise calls); safe at any time
  // from the loop, since only clean file pages and free memory go.
  void trim();

 private:
  struct Range {
    char* start;
    size_t length;
  };
  std::vector<Range> ranges_;
};

}  // namespace crius::oci::monitor
