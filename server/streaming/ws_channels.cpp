#include "server/streaming/ws_channels.h"

#include <openssl/evp.h>

namespace crius::streaming {

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(n);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * (text.size() / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes the padding stands for.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string ChannelCodec::encode(uint8_t channel, std::string_view data) const {
  if (!base64_) {
    std::string m(1, static_cast<char>(channel));
    m.append(data);
    return m;
  }
  return std::string(1, static_cast<char>('0' + channel)) + base64_encode(data);
}

std::optional<ChannelMessage> ChannelCodec::decode(std::string_view message) const {
  if (message.empty()) return std::nullopt;
  if (!base64_) return ChannelMessage{static_cast<uint8_t>(message[0]), std::string(message.substr(1))};
  const char c = message[0];
  if (c < '0' || c > '9') return std::nullopt;
  auto data = base64_decode(message.substr(1));
  if (!data) return std::nullopt;
  return ChannelMessage{static_cast<uint8_t>(c - '0'), std::move(*data)};
}

}  // namespace crius::streaming
