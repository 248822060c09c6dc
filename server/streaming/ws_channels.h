// The channel framing of Kubernetes' WebSocket subprotocols: a binary
// message is one channel byte then the data ("channel.k8s.io" and its v4/v5
// forms); a text message is the channel as an ASCII digit then the data in
// base64 ("base64.channel.k8s.io", "v4.base64.channel.k8s.io").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crius::streaming {

struct ChannelMessage {
  uint8_t channel;
  std::string data;
};

class ChannelCodec {
 public:
  explicit ChannelCodec(bool base64) : base64_(base64) {}
  bool binary() const { return !base64_; }
  std::string encode(uint8_t channel, std::string_view data) const;
  // nullopt for an empty message or bad base64.
  std::optional<ChannelMessage> decode(std::string_view message) const;

 private:
  bool base64_;
};

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace crius::streaming
