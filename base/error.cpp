#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace crius {

std::string errno_text(const std::string& what, int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer, which may not be buf.
  const char* text = strerror_r(err, buf, sizeof buf);
  return what + ": " + text;
}

Error errno_error(const std::string& what, int err) {
  if (err < 0) err = errno;
  std::string msg = errno_text(what, err);
  switch (err) {
    case ENOENT: return NotFound(msg);
    case EEXIST: return AlreadyExists(msg);
    case EPERM:
    case EACCES: return FailedPrecondition(msg);
    case ENOSPC:
    case EDQUOT: return ResourceExhausted(msg);
    default: return Internal(msg);
  }
}

Error write_error(const std::string& what, int err) {
  if (err < 0) err = errno;
  std::string msg = errno_text(what, err);
  return err == ENOSPC || err == EDQUOT ? ResourceExhausted(msg) : Internal(msg);
}

void throw_errno(const std::string& what, int err) { throw errno_error(what, err); }

}  // namespace crius
