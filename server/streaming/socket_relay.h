// Moves bytes between a forwarded connection's socket (in the pod) and the
// client's side of it (a SPDY data stream or a WebSocket channel), each way
// with at most one buffer in flight, so that the slower side sets the pace.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "base/fd.h"

namespace crius::streaming {

class SocketRelay : public std::enable_shared_from_this<SocketRelay> {
 public:
  struct Peer {
    // Bytes from the pod; `sent` once the client side took them.
    std::function<void(std::string, std::function<void(bool)>)> write;
    // The pod closed its side (or the socket failed: error text).
    std::function<void(const std::string& error)> ended;
  };
  SocketRelay(boost::asio::any_io_executor io, Fd connected, Peer peer);
  void start();
  // Bytes from the client; `written` once they reached the socket.
  void send(std::string data, std::function<void()> written);
  // The client closed its side: the socket's write side is shut after the queued data.
  void shutdown_send();
  void close();

 private:
  void read_more();
  void write_next();

  boost::asio::ip::tcp::socket socket_;
  Peer peer_;
  std::string buf_;
  std::vector<std::pair<std::string, std::function<void()>>> queue_;
  bool writing_ = false, shutdown_after_ = false, closed_ = false;
};

}  // namespace crius::streaming
