// Test-only fault injection for crash recovery: with CRIUS_TEST_CRASH_AT set
// to a point's name, the process ends with _exit(137) (as SIGKILL would: no
// destructor, no flush, nothing undone) when it reaches that point, so that an
// e2e test can restart the daemon over what a crash at that step leaves.
// Unset, which no deployment sets, a point costs one load of a static flag.
//
// Points are named "<RPC>/<step>", e.g. "RunPodSandbox/after-cni-add"; each
// call site says what is already made when it is reached.
#pragma once

#include <string_view>

namespace crius {

// How a process that reached a crash point exits.
inline constexpr int kCrashExitCode = 137;

namespace detail {
extern const char* const crash_at;  // the environment's value, nullptr when unset
[[noreturn]] void crash_now(std::string_view point);
}  // namespace detail

inline void crash_point(std::string_view point) {
  if (detail::crash_at != nullptr && point == detail::crash_at) detail::crash_now(point);
}

// A helper process of the daemon's (crius-pull) that ended at a crash point
// ends the daemon too, at the point the test named: the crash the test asked
// for is the daemon's.
inline void crash_point_of_helper() {
  if (detail::crash_at != nullptr) detail::crash_now(detail::crash_at);
}

}  // namespace crius
