// The small pieces of the streaming server: tokens, the status it reports,
// the WebSocket channel framing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <thread>

#include "base/error.h"
#include "server/streaming/status.h"
#include "server/streaming/tokens.h"
#include "server/streaming/ws_channels.h"

namespace crius::streaming {
namespace {

TEST(Tokens, AreRandomSingleUseAndExpire) {
  Tokens t(std::chrono::milliseconds(1000));
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string tok = t.put(ExecRequest{});
    EXPECT_EQ(tok.size(), 32u);  // 128 bits as hex
    EXPECT_TRUE(seen.insert(tok).second);
  }
  const std::string tok = t.put(AttachRequest{});
  auto r = t.take(tok);
  ASSERT_TRUE(r);
  EXPECT_STREQ(kind_of(*r), "attach");
  EXPECT_FALSE(t.take(tok)) << "a token is single-use";
  EXPECT_FALSE(t.take("00000000000000000000000000000000"));
  const std::string late = t.put(PortForwardRequest{});
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_FALSE(t.take(late)) << "an unused token expires";
  EXPECT_EQ(t.pending(), 0u) << "expired tokens are forgotten";
}

TEST(Tokens, PendingAreBounded) {
  Tokens t(std::chrono::minutes(1), 3);
  for (int i = 0; i < 3; ++i) t.put(ExecRequest{});
  EXPECT_THROW(t.put(ExecRequest{}), crius::Error);
}

TEST(Status, SuccessFailureAndErrorAsKubernetesStatus) {
  auto ok = nlohmann::json::parse(status_json(Outcome::exited(0)));
  EXPECT_EQ(ok["status"], "Success");
  EXPECT_TRUE(ok["metadata"].is_object());
  auto seven = nlohmann::json::parse(status_json(Outcome::exited(7)));
  EXPECT_EQ(seven["status"], "Failure");
  EXPECT_EQ(seven["reason"], "NonZeroExitCode");
  EXPECT_EQ(seven["details"]["causes"][0]["reason"], "ExitCode");
  EXPECT_EQ(seven["details"]["causes"][0]["message"], "7");
  auto err = nlohmann::json::parse(status_json(Outcome::failed("container x not found")));
  EXPECT_EQ(err["status"], "Failure");
  EXPECT_EQ(err["reason"], "InternalError");
  EXPECT_EQ(err["code"], 500);
  EXPECT_NE(err["message"].get<std::string>().find("container x not found"), std::string::npos);
  EXPECT_EQ(status_text(Outcome::exited(0)), "");
  EXPECT_NE(status_text(Outcome::exited(3)).find("3"), std::string::npos);
}

TEST(WsChannels, BinaryAndBase64Framing) {
  ChannelCodec bin(false), b64(true);
  EXPECT_EQ(bin.encode(1, "hi"), std::string("\x01hi", 3));
  EXPECT_EQ(b64.encode(1, "foo\n"), "1Zm9vCg==");
  auto m = b64.decode("0Zm9vCg==");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->channel, 0);
  EXPECT_EQ(m->data, "foo\n");
  EXPECT_FALSE(b64.decode("0!!!"));
  EXPECT_FALSE(bin.decode(""));
  for (size_t n = 0; n < 10; ++n) {
    std::string s(n, '\xfe');
    EXPECT_EQ(base64_decode(base64_encode(s)).value_or("?"), s) << n;
  }
}

}  // namespace
}  // namespace crius::streaming
