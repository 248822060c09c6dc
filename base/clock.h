// Wall-clock time as the CRI and the OCI state carry it.
#pragma once

#include <cstdint>
#include <string>

namespace crius {

// Nanoseconds since the Unix epoch (CLOCK_REALTIME): CRI timestamps.
int64_t now_ns();
// RFC 3339 in UTC with `digits` fractional digits (0, 3 or 9):
// "2026-11-22T09:45:01.123456789Z".
std::string rfc3339(int64_t ns, int digits = 9);
inline std::string now_rfc3339(int digits = 9) { return rfc3339(now_ns(), digits); }

}  // namespace crius
