// Go-style durations, the spelling operators know from Kubernetes, runc's
// flags and other runtimes' configs: "1m", "30s", "1h30m", "500ms",
// "2m3.5s" (also ns, us, µs, a sign, and a bare "0").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace crius {

// Throws std::invalid_argument "invalid duration "<text>": <why>"; the total
// must fit int64 nanoseconds, as in Go.
std::chrono::nanoseconds parse_duration(std::string_view text);
// The shortest Go-style form, zero units left out: "1m", "1h30m", "2m3.5s",
// "500ms", "0s".
std::string format_duration(std::chrono::milliseconds);

}  // namespace crius
