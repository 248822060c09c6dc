// A WebSocket test client (RFC 6455, on Beast) for the streaming server:
// connects to a URL the Exec/Attach/PortForward RPCs returned, with the
// subprotocols a client such as kubectl or crictl offers, and then sends and
// receives whole messages. Its own io thread; calls block with timeouts.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crius::test {

class WsClient {
 public:
  // nullptr when the connection fails or the server does not upgrade (a
  // test that needs the refusal's status sends its own request).
  static std::unique_ptr<WsClient> connect(const std::string& url, const std::vector<std::string>& protocols);
  ~WsClient();

  // The subprotocol the server chose ("" for none).
  const std::string& protocol() const;
  bool send(const std::string& message, bool binary = true);
  // The next message, or nullopt once the connection is closed or after the timeout.
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True once the server closed the connection (close frame or EOF).
  bool closed() const;
  // Sends a close frame (normal) and waits (bounded) for the server's.
  void close();
  // Drops the TCP connection without a close frame (a client that vanished).
  void abort();

  struct Impl;

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A channel message of the binary channel protocols: the channel byte, then data.
std::string channel_message(unsigned char channel, const std::string& data);

}  // namespace crius::test
