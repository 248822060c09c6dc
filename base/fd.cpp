#include "base/fd.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include <cerrno>

#include "base/error.h"

namespace crius {

Pipe make_pipe(const char* what, int flags) {
  int p[2];
  if (::pipe2(p, flags < 0 ? O_CLOEXEC : flags) != 0) throw Internal(errno_text(std::string("creating a pipe for ") + what, errno));
  return {Fd(p[0]), Fd(p[1])};
}

Fd open_fd(const std::string& path, int flags, unsigned mode) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
  if (!fd) throw_errno("opening " + path);
  return fd;
}

Fd openat2_fd(int root, const std::string& path, int flags, uint64_t resolve, unsigned mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = mode;
  how.resolve = resolve;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
    if (fd < 0 && errno == EAGAIN) continue;
    return Fd(static_cast<int>(fd));
  }
}

}  // namespace crius
