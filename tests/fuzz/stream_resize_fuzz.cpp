// Fuzzes the terminal resize stream of exec and attach (the remotecommand
// resize channel, SPDY stream or WebSocket channel 4): JSON objects
// {"Width":…,"Height":…} as kubectl and crictl send them, in any split, as
// streaming::RemoteCommand::resize_data takes them before the process is
// there.
// Invariants: whatever the bytes, resize_data throws nothing (it runs in
// the streaming server's event loop) and does nothing undefined (UBSan: a
// width that is a string, a float or huge is never cast blindly).
#include <memory>
#include <string>

#include "server/streaming/remote_command.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace st = crius::streaming;
  const std::string_view in = crius::fuzz::text(data, size);
  auto rc = std::make_shared<st::RemoteCommand>(nullptr, st::Request{st::ExecRequest{}}, st::RemoteCommand::Client{});
  const size_t step = in.empty() ? 1 : 1 + static_cast<unsigned char>(in.back()) % 29;
  try {
    for (size_t pos = 0; pos < in.size(); pos += step) rc->resize_data(in.substr(pos, step));
  } catch (...) {
    CRIUS_FUZZ_CHECK(!"resize_data threw");
  }
  return 0;
}
