// A backend for the streaming server's unit tests: "processes" that are
// scripts run on the server's io thread, and connections to loopback ports.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/streaming/backend.h"

namespace crius::streaming::testing {

// cmd[0] decides what the process does:
//   echo ARGS…   prints ARGS joined by spaces and a newline, exits 0
//   exit N       exits N
//   err TEXT     prints TEXT on stderr, exits 0
//   cat          copies stdin to stdout until stdin closes, exits 0
//   size         prints "W H\n" for every resize, until stdin closes
//   flood N      prints N bytes of 'x', exits 0
//   hang         never ends (until the client goes)
//   gone         the backend throws NotFound, as for a container removed meanwhile
class FakeBackend : public Backend {
 public:
  std::unique_ptr<ProcessIo> exec(const ExecRequest& r, boost::asio::any_io_executor io) override;
  std::unique_ptr<ProcessIo> attach(const AttachRequest& r, boost::asio::any_io_executor io) override;
  Fd connect(const std::string& pod_id, uint16_t port) override;

  std::atomic<int> started{0}, hung_up{0}, alive{0};
};

}  // namespace crius::streaming::testing
