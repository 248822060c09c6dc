// The messages between the runtime and the container's init on their
// SOCK_SEQPACKET socketpair: one type byte and a text payload each.
#pragma once

#include <sys/types.h>

#include <string>

namespace crius::oci::runtime::sync {

enum Type : char {
  kGo = 'G',        // runtime → init: carry on (maps written, hooks run)
  kAbort = 'A',     // runtime → init: give up
  kPid = 'P',       // intermediate → runtime: the init's pid
  kHooks = 'H',     // init → runtime: run prestart and createRuntime hooks now
  kReady = 'R',     // init → runtime: waiting on the exec fifo
  kWarning = 'W',   // init → runtime: log this
  kError = 'E',     // init → runtime: setup failed, payload says why
  kSeccomp = 'S',   // init → runtime: the seccomp listener fd (SCM_RIGHTS); runtime answers kGo
};

// Returns false when the peer is gone. With passed_fd >= 0, that fd goes
// along (SCM_RIGHTS, base/fd_passing.h).
bool send(int fd, Type t, const std::string& payload = {}, int passed_fd = -1);
// Blocks for the next message; false on EOF or error. An fd that came
// along lands in *passed_fd (close-on-exec), or is closed when not wanted.
bool receive(int fd, Type& t, std::string& payload, int* passed_fd = nullptr);

}  // namespace crius::oci::runtime::sync
