// libFuzzer entry for the SPDY/3.1 frame decoder and the header block
// inflater: whatever the bytes, both must refuse cleanly (ProtocolError),
// never crash, and never hold more than one bounded frame.
//
// Built by tests/fuzz/CMakeLists.txt when CRIUS_FUZZ=ON (clang), with a seed
// corpus in corpus/spdy_frame_fuzz/.
// unit_spdy_tests runs the same entry over a generated corpus
// (fuzz_corpus_test.cpp), so CI exercises it without clang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/streaming/spdy/frame.h"
#include "server/streaming/spdy/header_block.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace spdy = crius::streaming::spdy;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMax = 16 * 1024;

  // The first byte picks how the rest is cut into feeds, so that split
  // points are explored too.
  std::size_t step = size > 0 ? (data[0] % 17) + 1 : 1;
  spdy::FrameDecoder decoder(kMax);
  spdy::HeaderInflater inflater(64 * 1024);
  bool inflater_ok = true;
  for (std::size_t pos = 0; pos < in.size(); pos += step) {
    decoder.feed(in.substr(pos, step));
    if (decoder.buffered() > kMax + spdy::kFrameHeaderSize + in.size()) __builtin_trap();
    try {
      while (auto f = decoder.next()) {
        bool has_block = f->type == spdy::FrameType::syn_stream || f->type == spdy::FrameType::syn_reply ||
                         f->type == spdy::FrameType::headers;
        if (has_block && inflater_ok) {
          try {
            inflater.decompress(f->payload);
          } catch (const spdy::ProtocolError&) {
            inflater_ok = false;
          }
        }
        // What decodes must encode back to a frame that decodes the same.
        spdy::FrameDecoder again(kMax);
        again.feed(spdy::encode(*f));
        auto g = again.next();
        if (!g || !(*g == *f)) __builtin_trap();
      }
    } catch (const spdy::ProtocolError&) {
      break;
    }
  }
  // The same bytes as an uncompressed and as a compressed header block.
  try {
    spdy::parse_headers(in);
  } catch (const spdy::ProtocolError&) {
  }
  try {
    spdy::HeaderInflater fresh(64 * 1024);
    fresh.decompress(in);
  } catch (const spdy::ProtocolError&) {
  }
  return 0;
}
