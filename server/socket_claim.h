// Takes ownership of the CRI socket path before gRPC binds it: refuses when a
// live daemon serves it, clears a stale socket left by a dead one, and removes
// the socket again when the daemon stops.
#pragma once

#include <string>

#include "base/fd.h"

namespace crius::server {

class SocketClaim {
 public:
  // Creates the parent directory, takes `<path>.lock` (flock) and removes a
  // stale socket. Throws crius::Error (FailedPrecondition) naming the path
  // when another process serves it or the path is not a socket.
  explicit SocketClaim(std::string path);
  ~SocketClaim();
  SocketClaim(const SocketClaim&) = delete;
  SocketClaim& operator=(const SocketClaim&) = delete;

  const std::string& path() const { return path_; }

  // Sets the final mode of the bound socket (0660: root and its group only).
  void restrict_mode() const;

 private:
  std::string path_;
  Fd lock_;  // holds the flock on <path>.lock while the daemon runs
};

}  // namespace crius::server
