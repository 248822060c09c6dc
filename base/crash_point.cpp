#include "base/crash_point.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace crius::detail {

const char* const crash_at = std::getenv("CRIUS_TEST_CRASH_AT");

void crash_now(std::string_view point) {
  // One line on stderr (the log may be buffered elsewhere; this is not).
  const std::string line = "crius: test crash point reached: " + std::string(point) + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(kCrashExitCode);
}

}  // namespace crius::detail
