// Writing to a process's stdin without ever blocking the monitor: what the
// process does not take now waits in the sink's backlog, written as the
// pipe or terminal drains; the clients that feed it are not read while the
// backlog is long, so a process that does not read its stdin holds up its
// clients, not the monitor or its memory.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/log.h"
#include "oci/monitor/server_internal.h"

namespace crius::oci::monitor::detail {

namespace {

// Writes what the fd takes now from the front of data; false when the
// reader is gone (EPIPE, EIO from a hung-up terminal…).
bool write_some(int fd, std::string& data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    data.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::unique_ptr<StdinSink> Monitor::make_sink(Fd fd, const std::string& what) {
  if (::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK) != 0)
    throw_errno("make " + what + " non-blocking");
  auto s = std::make_unique<StdinSink>();
  s->fd = std::move(fd);
  StdinSink* raw = s.get();
  s->on_ready = [this, raw] { sink_ready(*raw); };
  return s;
}

void Monitor::sink_write(StdinSink& s, std::string_view data, Connection* from) {
  if (s.broken || s.close_when_empty || !s.fd) return;
  s.backlog.append(data);
  if (!s.watched) sink_ready(s);
  if (s.backlog.size() > kStdinBacklogCap && from && from->reading) {
    from->reading = false;
    rearm(from);
    s.waiting.push_back(from->id());
  }
}

void Monitor::sink_ready(StdinSink& s) {
  if (!write_some(s.fd.get(), s.backlog)) {
    // The process closed its stdin or exited: what is left has no reader.
    s.broken = true;
    std::string().swap(s.backlog);
  }
  const bool want = !s.backlog.empty();
  if (want && !s.watched) add(&s, s.fd.get(), EPOLLOUT);
  if (!want && s.watched) unwatch(s.fd.get());
  s.watched = want;
  if (!want && s.close_when_empty) s.fd.reset();
  if (s.backlog.size() <= kStdinBacklogCap && !s.waiting.empty()) {
    // Its clients are read again, and what they sent meanwhile is served.
    for (const uint64_t id : std::exchange(s.waiting, {})) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Connection* c = it->second.get();
      c->reading = true;
      rearm(c);
      serve_frames(c);
    }
  }
}

void Monitor::sink_close(std::unique_ptr<StdinSink>& s) {
  if (!s) return;
  if (s->backlog.empty() || s->broken) {
    sink_drop(s);
    return;
  }
  s->close_when_empty = true;
}

void Monitor::sink_drop(std::unique_ptr<StdinSink>& s) {
  if (!s) return;
  if (s->watched) unwatch(s->fd.get());
  s->watched = false;
  // Closed at once: the process sees EOF now, not at the end of the batch.
  s->fd.reset();
  for (const uint64_t id : std::exchange(s->waiting, {})) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    it->second->reading = true;
    rearm(it->second.get());
  }
  retire(s);
}

}  // namespace crius::oci::monitor::detail
