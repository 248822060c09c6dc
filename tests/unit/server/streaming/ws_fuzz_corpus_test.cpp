// The WebSocket channel fuzz entry (tests/fuzz/ws_channel_fuzz.cpp) over a
// generated corpus, so that CI runs it without clang's libFuzzer.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/fuzz/ws_channel_fuzz.cpp"

namespace {

int run(const std::string& s) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(WsChannelFuzzCorpus, ValidMessagesTheirCutsAndNoise) {
  const std::vector<std::string> seeds = {std::string("\x00hello", 6), "1aGkK", "0Zm9vCg==", "3", "",
                                          std::string("\xff\x00", 2), "4eyJXaWR0aCI6ODB9", "9===="};
  for (const auto& s : seeds) {
    for (size_t n = 0; n <= s.size(); ++n) EXPECT_EQ(run(s.substr(0, n)), 0);
  }
  std::mt19937 rng(14);
  for (int i = 0; i < 3000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
    std::string noise(rng() % 64, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    EXPECT_EQ(run(s), 0);
    EXPECT_EQ(run(noise), 0);
  }
}

}  // namespace
