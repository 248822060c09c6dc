// `run` in the foreground with process.terminal: the runtime keeps the pty
// master itself and copies between it and its own stdio (raw mode when stdin
// is a terminal), as runc does without --console-socket.
#pragma once

#include <termios.h>

#include <optional>

#include "base/fd.h"

namespace crius::oci::runtime {

class TerminalProxy {
 public:
  // Takes the master received from the container's init.
  explicit TerminalProxy(Fd master);
  ~TerminalProxy();
  TerminalProxy(const TerminalProxy&) = delete;
  TerminalProxy& operator=(const TerminalProxy&) = delete;

  // Copies what is ready, waiting at most timeout_ms or until `wake`
  // (e.g. a signalfd) is readable. Returns false once the master is closed
  // (every process holding the pty is gone).
  bool pump(int timeout_ms, int wake = -1);
  // Copies the rest of the output after the process exited.
  void drain();
  int master() const { return master_.get(); }

 private:
  Fd master_;
  std::optional<termios> saved_;
  bool stdin_open_ = true;
};

}  // namespace crius::oci::runtime
