// The messages between the runtime and the container's init on their
// SOCK_SEQPACKET socketpair: one type byte and a text payload each.
#pragma once

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
};

// Returns false when the peer is gone.
bool send(int fd, Type t, const std::string& payload = {});
// Blocks for the next message; false on EOF or error.
bool receive(int fd, Type& t, std::string& payload);

}  // namespace crius::oci::runtime::sync
