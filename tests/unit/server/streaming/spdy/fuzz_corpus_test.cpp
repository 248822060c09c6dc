// Runs the libFuzzer entry of tests/fuzz/spdy_frame_fuzz.cpp over generated
// inputs: valid frame streams, their truncations and bit flips, and noise.
#include <gtest/gtest.h>

#include <random>

#include "server/streaming/spdy/frame.h"
#include "server/streaming/spdy/header_block.h"
#include "tests/fuzz/spdy_frame_fuzz.cpp"

namespace crius::streaming::spdy {
namespace {

int run(const std::string& s) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string valid_session_bytes() {
  HeaderDeflater z;
  std::string s;
  s += encode_settings({{0, kSettingInitialWindowSize, 1 << 20}});
  s += encode_syn_stream(1, 0, 0, 0, z.compress({{"streamtype", "error"}}));
  s += encode_syn_stream(3, 0, 0, 0, z.compress({{"streamtype", "stdin"}}));
  s += encode_data(3, "hello world");
  s += encode_headers(3, 0, z.compress({{"x", "y"}}));
  s += encode_window_update(0, 4096);
  s += encode_ping(1);
  s += encode_rst_stream(1, kCancel);
  s += encode_data(3, "", kFlagFin);
  s += encode_goaway(0, kGoAwayOk);
  return s;
}

TEST(SpdyFuzzCorpus, GeneratedInputsAreRefusedCleanly) {
  std::mt19937 rng(7);
  std::string base = valid_session_bytes();
  EXPECT_EQ(run(""), 0);
  EXPECT_EQ(run(base), 0);
  for (std::size_t cut = 0; cut < base.size(); cut += 3) EXPECT_EQ(run(base.substr(0, cut)), 0);
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
    EXPECT_EQ(run(s), 0);
  }
  for (int i = 0; i < 1000; ++i) {
    std::string s(rng() % 300, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    if (i % 2 == 0 && s.size() >= 4) s[0] = static_cast<char>(0x80), s[1] = 3;  // look like control frames
    EXPECT_EQ(run(s), 0);
  }
}

}  // namespace
}  // namespace crius::streaming::spdy
