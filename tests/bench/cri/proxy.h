// A TCP relay in front of the test registry that notes when the first byte
// of a watched blob's response reaches the client: the "first byte" of a
// pull, the same way for both runtimes, without looking into their stores.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace crius::bench {

class FirstByteProxy {
 public:
  using Clock = std::chrono::steady_clock;
  // upstream: "127.0.0.1:PORT".
  explicit FirstByteProxy(const std::string& upstream);
  ~FirstByteProxy();
  FirstByteProxy(const FirstByteProxy&) = delete;
  FirstByteProxy& operator=(const FirstByteProxy&) = delete;

  // "127.0.0.1:PORT" of the relay.
  const std::string& host() const { return host_; }
  // Forgets the last first byte and watches GETs of these blobs ("sha256:…").
  void watch(const std::vector<std::string>& digests);
  std::optional<Clock::time_point> first_byte() const;

 private:
  void accept_loop();
  void relay(int client);
  bool watched(const std::string& request) const;

  int listen_fd_ = -1, upstream_port_ = 0;
  std::string host_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> hexes_;
  std::optional<Clock::time_point> first_;
  std::thread acceptor_;
  std::vector<std::thread> relays_;
};

}  // namespace crius::bench
