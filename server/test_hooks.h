// Fault injection for the end-to-end tests, read once from the environment at
// start. Inert unless CRIUS_TEST_HOLD_RPC is set, which no deployment does.
//
//   CRIUS_TEST_HOLD_RPC=<RpcName>:<file>   a blocking RPC of that name waits on
//                                          the work pool until <file> exists
//                                          (at most 60 s), then proceeds.
#pragma once

#include <string>
#include <string_view>

namespace crius::server {

class TestHooks {
 public:
  static TestHooks from_environment();
  void maybe_hold(std::string_view rpc) const;

 private:
  std::string hold_rpc_;
  std::string release_file_;
};

}  // namespace crius::server
