#include "oci/monitor/watch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"

namespace crius::oci::monitor::detail {

std::span<char> read_buffer() {
  static char buf[32 * 1024];
  return buf;
}

bool OutputPipe::drain(size_t limit) {
  const auto buf = read_buffer();
  size_t total = 0;
  while (!eof && total < limit) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n > 0) {
      total += n;
      on_data(buf.data(), n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return false;
    eof = true;  // 0, or EIO from a pty whose slave is closed
  }
  return eof;
}

void OutputPipe::on_event(uint32_t) {
  if (drain(1 << 20) && on_eof) on_eof();
}

void Timer::on_event(uint32_t) {
  // The expiration count is of no interest (the timers fire once), but the
  // read clears the readiness.
  uint64_t n;
  (void)!::read(fd.get(), &n, sizeof n);
  on_fire();
}

std::unique_ptr<OutputPipe> output_pipe(Fd* write_end, const std::string& what) {
  auto [r, w] = make_pipe(what.c_str());
  // Only our end: the child writes blocking.
  if (::fcntl(r.get(), F_SETFL, O_NONBLOCK) != 0) throw_errno("make the pipe for " + what + " non-blocking");
  auto pipe = std::make_unique<OutputPipe>();
  pipe->fd = std::move(r);
  *write_end = std::move(w);
  return pipe;
}

}  // namespace crius::oci::monitor::detail
