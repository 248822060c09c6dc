#include "conf/error.h"

#include <cstring>

namespace crius {

std::string errno_text(const std::string& what, int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer, which may not be buf.
  const char* text = strerror_r(err, buf, sizeof buf);
  return what + ": " + text;
}

}  // namespace crius
