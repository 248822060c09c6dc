#include "base/clock.h"

#include <time.h>

#include <cstdio>

namespace crius {

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string rfc3339(int64_t ns, int digits) {
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  long frac = static_cast<long>(ns % 1'000'000'000);
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  struct tm tm {};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (digits == 3)
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%03ld", frac / 1'000'000);
  else if (digits > 0)
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%09ld", frac);
  std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "Z");
  return buf;
}

}  // namespace crius
