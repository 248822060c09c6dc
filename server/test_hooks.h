// Fault injection for the end-to-end tests, read once from the environment at
// start. Inert unless CRIUS_TEST_HOLD_RPC is set, which no deployment does.
//
//   CRIUS_TEST_HOLD_RPC=<RpcName>:<file>   a blocking RPC of that name waits on
//                                          the work pool until <file> exists
//                                          (at most 60 s), then proceeds.
//   CRIUS_TEST_EVENT_QUEUE=<n>             a GetContainerEvents subscriber may
//                                          be n events behind (not 4096), so
//                                          that a test can make one overflow.
#pragma once

#include <cstddef>

#include <string>
#include <string_view>

namespace crius::server {

class TestHooks {
 public:
  static TestHooks from_environment();
  void maybe_hold(std::string_view rpc) const;
  // The events queue asked for, or `fallback`.
  size_t event_queue(size_t fallback) const { return event_queue_ ? event_queue_ : fallback; }

 private:
  std::string hold_rpc_;
  std::string release_file_;
  size_t event_queue_ = 0;
};

}  // namespace crius::server
