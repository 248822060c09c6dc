// The config's durations are milliseconds; the parsing is base's.
#include <chrono>

#include "base/duration.h"
#include "conf/load.h"

namespace crius::conf {

std::chrono::milliseconds parse_duration(const std::string& text) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(crius::parse_duration(text));
}

}  // namespace crius::conf
