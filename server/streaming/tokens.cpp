#include "server/streaming/tokens.h"

#include "base/error.h"
#include "base/random_id.h"

namespace crius::streaming {

const char* kind_of(const Request& r) {
  switch (r.index()) {
    case 0: return "exec";
    case 1: return "attach";
    default: return "portforward";
  }
}

void Tokens::expire(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
}

std::string Tokens::put(Request r) {
  // 16 random bytes: 128 bits, as hex (URL-safe, no escaping).
  std::string token = random_hex(16);
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  expire(now);
  if (entries_.size() >= max_)
    throw Unavailable("too many streaming requests are waiting for their clients (" + std::to_string(max_) +
                      "); try again once some are used or expired");
  entries_.emplace(token, Entry{std::move(r), now + ttl_});
  return token;
}

std::optional<Request> Tokens::take(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  const bool fresh = it->second.expires > Clock::now();
  Request r = std::move(it->second.request);
  entries_.erase(it);
  if (!fresh) return std::nullopt;
  return r;
}

size_t Tokens::pending() {
  std::lock_guard lock(mu_);
  expire(Clock::now());
  return entries_.size();
}

}  // namespace crius::streaming
