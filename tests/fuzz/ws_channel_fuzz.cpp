// libFuzzer entry for the WebSocket channel framing (binary and base64):
// whatever a client sends in a message, decoding refuses it or yields a
// channel and data no larger than the message, and never crashes. The
// WebSocket frames themselves are Beast's, whose limit (1 MiB a message)
// the streaming server's tests check.
//
// Built by tests/fuzz/CMakeLists.txt when CRIUS_FUZZ=ON (clang), with a seed
// corpus in corpus/ws_channel_fuzz/.
// unit_streaming_tests runs the same entry over a
// generated corpus (ws_fuzz_corpus_test.cpp), so CI exercises it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/streaming/ws_channels.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace st = crius::streaming;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool base64 : {false, true}) {
    const st::ChannelCodec codec(base64);
    if (auto m = codec.decode(in)) {
      if (m->data.size() > in.size()) std::abort();
      // What decodes encodes back to a message that decodes the same.
      auto again = codec.decode(codec.encode(m->channel, m->data));
      if (!again || again->channel != m->channel || again->data != m->data) std::abort();
    }
  }
  if (auto d = st::base64_decode(in); d && d->size() > in.size()) std::abort();
  return 0;
}
