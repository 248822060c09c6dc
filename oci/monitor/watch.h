// What the monitor's epoll loop watches: the data of every registered fd
// points at one of these, and the loop calls its on_event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/fd.h"

namespace crius::oci::monitor::detail {

struct Watch {
  virtual ~Watch() = default;
  virtual void on_event(uint32_t events) = 0;
  // Retired watches are kept until the end of the current epoll batch so
  // that a pending event never reaches a freed object.
  bool retired = false;
};

// The read end of a stdio pipe (or a pty master), non-blocking.
struct OutputPipe : Watch {
  Fd fd;
  std::function<void(const char*, size_t)> on_data;
  std::function<void()> on_eof;
  bool eof = false;

  // Reads until EAGAIN, EOF or `limit` bytes. Returns true at EOF.
  bool drain(size_t limit = SIZE_MAX);
  void on_event(uint32_t) override;
};

struct Timer : Watch {
  Fd fd;  // a timerfd
  std::function<void()> on_fire;
  void on_event(uint32_t) override;
};

struct Callback : Watch {
  std::function<void(uint32_t)> fn;
  void on_event(uint32_t ev) override { fn(ev); }
};

// A pipe for a child's output: the watched read end, and the write end for
// the child in *write_end. `what` names it in errors.
std::unique_ptr<OutputPipe> output_pipe(Fd* write_end, const std::string& what);

// The one read buffer of every watch: the loop is single-threaded.
std::span<char> read_buffer();

}  // namespace crius::oci::monitor::detail
