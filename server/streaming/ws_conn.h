// A WebSocket connection after its handshake, as the channel protocols use
// it: whole messages in and out. Implemented on Beast's websocket stream over
// TCP or TLS (ws_conn.cpp); used only on the server's io thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/system/error_code.hpp>

#include "server/streaming/transport.h"

namespace crius::streaming {

class WsConn {
 public:
  virtual ~WsConn() = default;
  // The next message (binary or text); an error once the peer closed.
  virtual void read(std::function<void(boost::system::error_code, std::string)> done) = 0;
  // Queues a message; `sent` once it is written (false: the connection is gone).
  virtual void write(std::string message, bool binary, std::function<void(bool)> sent = {}) = 0;
  // A close frame after the queued messages; the peer's answer ends read().
  virtual void close() = 0;
  // Ends the TCP connection at once.
  virtual void abort() = 0;
  virtual size_t queued_bytes() const = 0;
};

// The SPDY bytes of the SPDY-over-WebSocket tunnel (kubectl port-forward
// 1.31+): each write one binary message, reads the messages' bytes.
std::unique_ptr<Transport> tunnel_transport(std::shared_ptr<WsConn> ws, boost::asio::any_io_executor io);

}  // namespace crius::streaming
