// The byte pipe a streaming session runs over, whatever carries it: a TCP
// connection, TLS over it, or the binary messages of a WebSocket (the
// SPDY-over-WebSocket tunnel of kubectl port-forward). The SPDY session and
// the channel protocols are written once against this.
//
// All of a server's sessions run on one io_context thread: handlers are
// called on it and the objects are used only from it. At most one read and
// one write are outstanding at a time.
#pragma once

#include <cstddef>
#include <functional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace crius::streaming {

using IoHandler = std::function<void(boost::system::error_code, std::size_t)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads at least one byte into buf (at most its size).
  virtual void async_read_some(boost::asio::mutable_buffer buf, IoHandler done) = 0;
  // Writes all of buf; on a message transport, as one message.
  virtual void async_write(boost::asio::const_buffer buf, IoHandler done) = 0;
  // Ends the connection at once; pending operations complete with an error.
  virtual void close() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
};

}  // namespace crius::streaming
