// The requests the RPCs handed out URLs for, each under a random token
// (128 bits from the kernel's CSPRNG): single use, and forgotten when not
// used in time (kubelet's own streaming cache keeps them one minute).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "server/streaming/requests.h"

namespace crius::streaming {

class Tokens {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Tokens(std::chrono::milliseconds ttl = std::chrono::minutes(1), size_t max = 4096)
      : ttl_(ttl), max_(max) {}
  // A new token for r. ResourceExhausted-like Unavailable when `max`
  // unused tokens are pending.
  std::string put(Request r);
  // The request, once: nullopt for a token unknown, used or expired.
  std::optional<Request> take(const std::string& token);
  size_t pending();

 private:
  void expire(Clock::time_point now);
  struct Entry {
    Request request;
    Clock::time_point expires;
  };
  std::chrono::milliseconds ttl_;
  size_t max_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace crius::streaming
