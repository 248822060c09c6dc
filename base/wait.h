// Waiting for a condition that another process brings about (a socket that
// appears, a process that exits), polling with a growing pause.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace crius {

// Calls done() until it is true (then returns true) or `timeout` has passed
// (then returns false, after one last call). The pause starts at `first` and
// doubles up to `longest`.
template <typename Done>
bool wait_until(Done&& done, std::chrono::milliseconds timeout,
                std::chrono::microseconds first = std::chrono::microseconds(500),
                std::chrono::microseconds longest = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = first;
  for (;;) {
    if (done()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, longest);
  }
}

}  // namespace crius
