// The one poll helper of every test tree: waits for a condition that another
// process brings about, instead of sleeping a fixed time and hoping.
#pragma once

#include <chrono>

#include "base/wait.h"

namespace crius::testing {

// True as soon as done() is; false once `timeout` has passed without it.
template <typename Done>
bool eventually(Done&& done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return crius::wait_until(done, timeout, std::chrono::milliseconds(1), std::chrono::milliseconds(50));
}

}  // namespace crius::testing
