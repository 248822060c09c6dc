#include "server/test_hooks.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "base/log.h"

namespace crius::server {

TestHooks TestHooks::from_environment() {
  TestHooks hooks;
  if (const char* v = std::getenv("CRIUS_TEST_HOLD_RPC")) {
    std::string spec = v;
    auto colon = spec.find(':');
    if (colon != std::string::npos) {
      hooks.hold_rpc_ = spec.substr(0, colon);
      hooks.release_file_ = spec.substr(colon + 1);
      log::warn("test hook active: holding RPC until a file exists",
                {{"rpc", hooks.hold_rpc_}, {"file", hooks.release_file_}});
    }
  }
  if (const char* v = std::getenv("CRIUS_TEST_EVENT_QUEUE")) {
    hooks.event_queue_ = std::strtoul(v, nullptr, 10);
    log::warn("test hook active: a small container events queue", {{"events", v}});
  }
  return hooks;
}

void TestHooks::maybe_hold(std::string_view rpc) const {
  if (hold_rpc_.empty() || rpc != hold_rpc_) return;
  log::warn("test hook: holding a call", {{"rpc", rpc}});
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::access(release_file_.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace crius::server
