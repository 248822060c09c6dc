// What the streaming server needs from the rest of the daemon, so that it
// depends on nothing above base: a process's stdio to drive (an exec'd
// process or a container's main process) and connections into a pod.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "base/fd.h"
#include "server/streaming/requests.h"

namespace crius::streaming {

// A process's stdio as a session drives it. Used only on the server's
// io_context thread, like everything else of a session.
class ProcessIo {
 public:
  struct Handlers {
    // Output, one chunk at a time: the next chunk is read only after
    // ack() (so a slow client holds the process back instead of memory).
    std::function<void(std::string_view)> stdout_data, stderr_data;
    // The process ended: its exit code (128+signal when killed).
    std::function<void(int exit_code)> exited;
    // The link to the process broke before it ended (monitor gone, the
    // container removed): the reason, for the client's error stream.
    std::function<void(const std::string&)> failed;
  };
  virtual ~ProcessIo() = default;
  virtual void start(Handlers h) = 0;
  virtual void ack() = 0;
  // Bytes for the process's stdin; `written` once they left our buffer.
  virtual void write_stdin(std::string data, std::function<void()> written) = 0;
  virtual void close_stdin() = 0;
  virtual void resize(uint16_t width, uint16_t height) = 0;
  // The client went away: the process sees its terminal hang up.
  virtual void close() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Called off the io thread (they may block briefly); the returned
  // object is used on `io`. Throw crius::Error naming what is wrong (the
  // container went away or stopped meanwhile).
  virtual std::unique_ptr<ProcessIo> exec(const ExecRequest& r, boost::asio::any_io_executor io) = 0;
  virtual std::unique_ptr<ProcessIo> attach(const AttachRequest& r, boost::asio::any_io_executor io) = 0;
  // A TCP socket connected to localhost:port inside the pod's network
  // namespace (the host's for a host-network pod).
  virtual Fd connect(const std::string& pod_id, uint16_t port) = 0;
};

}  // namespace crius::streaming
