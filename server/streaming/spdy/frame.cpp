#include "server/streaming/spdy/frame.h"

#include <algorithm>

#include "base/big_endian.h"

namespace crius::streaming::spdy {
namespace {

constexpr uint32_t kStreamIdMask = 0x7fffffff;

uint32_t get32(const char* p) { return read_be32(p); }
void put32(std::string& out, uint32_t v) { append_be32(out, v); }

void put_flags_length(std::string& out, uint8_t flags, std::size_t length) {
  if (length > kMaxWireLength) {
    throw std::invalid_argument("spdy: frame payload of " + std::to_string(length) +
                                " bytes does not fit the 24-bit length field");
  }
  put32(out, (uint32_t{flags} << 24) | static_cast<uint32_t>(length));
}

uint32_t checked_id(uint32_t id) {
  if (id > kStreamIdMask) throw std::invalid_argument("spdy: stream id " + std::to_string(id) + " exceeds 31 bits");
  return id;
}

// The 8 bytes every control frame starts with.
std::string control_header(FrameType type, uint8_t flags, std::size_t length) {
  std::string out;
  out.reserve(kFrameHeaderSize + length);
  put32(out, 0x80000000u | (uint32_t{kVersion} << 16) | static_cast<uint16_t>(type));
  put_flags_length(out, flags, length);
  return out;
}

bool known_control_type(uint16_t t) {
  switch (static_cast<FrameType>(t)) {
    case FrameType::syn_stream:
    case FrameType::syn_reply:
    case FrameType::rst_stream:
    case FrameType::settings:
    case FrameType::ping:
    case FrameType::goaway:
    case FrameType::headers:
    case FrameType::window_update:
      return true;
    default:
      return false;
  }
}

}  // namespace

const char* frame_type_name(FrameType t) {
  switch (t) {
    case FrameType::data: return "DATA";
    case FrameType::syn_stream: return "SYN_STREAM";
    case FrameType::syn_reply: return "SYN_REPLY";
    case FrameType::rst_stream: return "RST_STREAM";
    case FrameType::settings: return "SETTINGS";
    case FrameType::ping: return "PING";
    case FrameType::goaway: return "GOAWAY";
    case FrameType::headers: return "HEADERS";
    case FrameType::window_update: return "WINDOW_UPDATE";
  }
  return "unknown";
}

FrameDecoder::FrameDecoder(std::size_t max_payload) : max_payload_(std::min(max_payload, kMaxWireLength)) {}

void FrameDecoder::feed(std::string_view bytes) {
  while (!bytes.empty() && !error_) {
    if (!in_body_) {
      std::size_t take = std::min(bytes.size(), kFrameHeaderSize - header_have_);
      std::copy_n(bytes.data(), take, header_ + header_have_);
      header_have_ += take;
      buffered_ += take;
      bytes.remove_prefix(take);
      if (header_have_ < kFrameHeaderSize) return;
      try {
        on_header();
      } catch (const ProtocolError& e) {
        error_ = e;
        return;
      }
      if (body_len_ > 0) continue;
    } else {
      std::size_t take = std::min(bytes.size(), body_len_ - (skip_ ? 0 : body_.size()));
      if (skip_) {
        body_len_ -= take;
      } else {
        body_.append(bytes.data(), take);
        buffered_ += take;
      }
      bytes.remove_prefix(take);
      if (skip_ ? body_len_ > 0 : body_.size() < body_len_) return;
    }
    try {
      on_body();
    } catch (const ProtocolError& e) {
      error_ = e;
      return;
    }
  }
}

// Checks what the 8 header bytes promise before any of the body is kept.
void FrameDecoder::on_header() {
  uint32_t first = get32(header_);
  uint32_t second = get32(header_ + 4);
  body_len_ = second & 0xffffff;
  if (body_len_ > max_payload_) {
    throw ProtocolError("frame announces " + std::to_string(body_len_) + " bytes, more than the limit of " +
                        std::to_string(max_payload_), 0, kFrameTooLarge);
  }
  skip_ = false;
  if (first & 0x80000000u) {
    uint16_t version = static_cast<uint16_t>((first >> 16) & 0x7fff);
    uint16_t type = static_cast<uint16_t>(first & 0xffff);
    if (version != kVersion) {
      throw ProtocolError("control frame of version " + std::to_string(version) + ", expected 3", 0,
                          kUnsupportedVersion);
    }
    // Unknown control types are skipped, as the spec asks.
    skip_ = !known_control_type(type);
    auto exact = [&](std::size_t n) {
      if (body_len_ != n) {
        throw ProtocolError(std::string(frame_type_name(static_cast<FrameType>(type))) + " frame of length " +
                            std::to_string(body_len_) + ", expected " + std::to_string(n));
      }
    };
    auto at_least = [&](std::size_t n) {
      if (body_len_ < n) {
        throw ProtocolError(std::string(frame_type_name(static_cast<FrameType>(type))) + " frame of length " +
                            std::to_string(body_len_) + ", shorter than its fixed fields (" + std::to_string(n) +
                            ")");
      }
    };
    switch (static_cast<FrameType>(type)) {
      case FrameType::syn_stream: at_least(10); break;
      case FrameType::syn_reply:
      case FrameType::headers: at_least(4); break;
      case FrameType::rst_stream:
      case FrameType::goaway:
      case FrameType::window_update: exact(8); break;
      case FrameType::ping: exact(4); break;
      case FrameType::settings:
        at_least(4);
        if ((body_len_ - 4) % 8 != 0) throw ProtocolError("SETTINGS frame length " + std::to_string(body_len_) +
                                                          " is not 4 plus 8 per entry");
        break;
      default: break;
    }
  } else if ((first & kStreamIdMask) == 0) {
    throw ProtocolError("DATA frame on stream 0");
  }
  in_body_ = true;
  body_.clear();
  if (!skip_) body_.reserve(body_len_);
}

void FrameDecoder::on_body() {
  uint32_t first = get32(header_);
  uint32_t second = get32(header_ + 4);
  std::size_t consumed = kFrameHeaderSize + (skip_ ? 0 : body_.size());
  in_body_ = false;
  header_have_ = 0;
  buffered_ -= consumed;
  if (skip_) {
    skip_ = false;
    body_len_ = 0;
    return;
  }
  Frame f;
  f.flags = static_cast<uint8_t>(second >> 24);
  const char* p = body_.data();
  if (!(first & 0x80000000u)) {
    f.type = FrameType::data;
    f.stream_id = first & kStreamIdMask;
    f.payload = std::move(body_);
  } else {
    f.type = static_cast<FrameType>(first & 0xffff);
    switch (f.type) {
      case FrameType::syn_stream:
        f.stream_id = get32(p) & kStreamIdMask;
        f.associated_id = get32(p + 4) & kStreamIdMask;
        f.priority = static_cast<uint8_t>(static_cast<unsigned char>(p[8]) >> 5);
        f.slot = static_cast<uint8_t>(p[9]);
        f.payload.assign(p + 10, body_.size() - 10);
        if (f.stream_id == 0) throw ProtocolError("SYN_STREAM for stream 0");
        break;
      case FrameType::syn_reply:
      case FrameType::headers:
        f.stream_id = get32(p) & kStreamIdMask;
        f.payload.assign(p + 4, body_.size() - 4);
        if (f.stream_id == 0) throw ProtocolError(std::string(frame_type_name(f.type)) + " for stream 0");
        break;
      case FrameType::rst_stream:
        f.stream_id = get32(p) & kStreamIdMask;
        f.status = get32(p + 4);
        if (f.stream_id == 0) throw ProtocolError("RST_STREAM for stream 0");
        break;
      case FrameType::settings: {
        uint32_t count = get32(p);
        // The count must match the length: never trust it for a reservation.
        if (count != (body_.size() - 4) / 8) {
          throw ProtocolError("SETTINGS frame claims " + std::to_string(count) + " entries but carries " +
                              std::to_string((body_.size() - 4) / 8));
        }
        f.settings.reserve(count);
        for (uint32_t i = 0; i < count; ++i) {
          uint32_t flag_id = get32(p + 4 + 8 * i);
          f.settings.push_back({static_cast<uint8_t>(flag_id >> 24), flag_id & 0xffffff, get32(p + 8 + 8 * i)});
        }
        break;
      }
      case FrameType::ping: f.ping_id = get32(p); break;
      case FrameType::goaway:
        f.stream_id = get32(p) & kStreamIdMask;
        f.status = get32(p + 4);
        break;
      case FrameType::window_update:
        f.stream_id = get32(p) & kStreamIdMask;
        f.delta = get32(p + 4) & kMaxWindow;  // 0 is for the session to judge
        break;
      case FrameType::data: break;  // not reachable: data frames have the control bit clear
    }
  }
  // RST_STREAM, PING, GOAWAY and WINDOW_UPDATE define no flags.
  if (f.type == FrameType::rst_stream || f.type == FrameType::ping || f.type == FrameType::goaway ||
      f.type == FrameType::window_update) {
    f.flags = 0;
  }
  body_ = std::string();
  body_len_ = 0;
  buffered_ += f.payload.size();
  ready_.push_back(std::move(f));
}

std::optional<Frame> FrameDecoder::next() {
  if (!ready_.empty()) {
    Frame f = std::move(ready_.front());
    ready_.pop_front();
    buffered_ -= f.payload.size();
    return f;
  }
  if (error_) throw *error_;
  return std::nullopt;
}

std::string encode_data(uint32_t stream_id, std::string_view data, uint8_t flags) {
  if (stream_id == 0) throw std::invalid_argument("spdy: DATA frame for stream 0");
  std::string out;
  out.reserve(kFrameHeaderSize + data.size());
  put32(out, checked_id(stream_id));
  put_flags_length(out, flags, data.size());
  out.append(data);
  return out;
}

std::string encode_syn_stream(uint32_t stream_id, uint32_t associated_id, uint8_t priority, uint8_t flags,
                              std::string_view header_block, uint8_t slot) {
  std::string out = control_header(FrameType::syn_stream, flags, 10 + header_block.size());
  put32(out, checked_id(stream_id));
  put32(out, checked_id(associated_id));
  out.push_back(static_cast<char>((priority & 0x7) << 5));
  out.push_back(static_cast<char>(slot));
  out.append(header_block);
  return out;
}

std::string encode_syn_reply(uint32_t stream_id, uint8_t flags, std::string_view header_block) {
  std::string out = control_header(FrameType::syn_reply, flags, 4 + header_block.size());
  put32(out, checked_id(stream_id));
  out.append(header_block);
  return out;
}

std::string encode_rst_stream(uint32_t stream_id, uint32_t status) {
  std::string out = control_header(FrameType::rst_stream, 0, 8);
  put32(out, checked_id(stream_id));
  put32(out, status);
  return out;
}

std::string encode_settings(const std::vector<Setting>& settings, uint8_t flags) {
  std::string out = control_header(FrameType::settings, flags, 4 + 8 * settings.size());
  put32(out, static_cast<uint32_t>(settings.size()));
  for (const auto& s : settings) {
    if (s.id > 0xffffff) throw std::invalid_argument("spdy: setting id " + std::to_string(s.id) + " exceeds 24 bits");
    put32(out, (uint32_t{s.flags} << 24) | s.id);
    put32(out, s.value);
  }
  return out;
}

std::string encode_ping(uint32_t id) {
  std::string out = control_header(FrameType::ping, 0, 4);
  put32(out, id);
  return out;
}

std::string encode_goaway(uint32_t last_good_stream_id, uint32_t status) {
  std::string out = control_header(FrameType::goaway, 0, 8);
  put32(out, checked_id(last_good_stream_id));
  put32(out, status);
  return out;
}

std::string encode_headers(uint32_t stream_id, uint8_t flags, std::string_view header_block) {
  std::string out = control_header(FrameType::headers, flags, 4 + header_block.size());
  put32(out, checked_id(stream_id));
  out.append(header_block);
  return out;
}

std::string encode_window_update(uint32_t stream_id, uint32_t delta) {
  if (delta > kMaxWindow) throw std::invalid_argument("spdy: WINDOW_UPDATE delta " + std::to_string(delta) + " exceeds 31 bits");
  std::string out = control_header(FrameType::window_update, 0, 8);
  put32(out, checked_id(stream_id));
  put32(out, delta);
  return out;
}

std::string encode(const Frame& f) {
  switch (f.type) {
    case FrameType::data: return encode_data(f.stream_id, f.payload, f.flags);
    case FrameType::syn_stream:
      return encode_syn_stream(f.stream_id, f.associated_id, f.priority, f.flags, f.payload, f.slot);
    case FrameType::syn_reply: return encode_syn_reply(f.stream_id, f.flags, f.payload);
    case FrameType::rst_stream: return encode_rst_stream(f.stream_id, f.status);
    case FrameType::settings: return encode_settings(f.settings, f.flags);
    case FrameType::ping: return encode_ping(f.ping_id);
    case FrameType::goaway: return encode_goaway(f.stream_id, f.status);
    case FrameType::headers: return encode_headers(f.stream_id, f.flags, f.payload);
    case FrameType::window_update: return encode_window_update(f.stream_id, f.delta);
  }
  throw std::invalid_argument("spdy: cannot encode frame type " + std::to_string(static_cast<int>(f.type)));
}

}  // namespace crius::streaming::spdy
