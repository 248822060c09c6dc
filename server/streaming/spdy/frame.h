// The SPDY/3.1 frame codec: bytes to frames and back, nothing else. Header
// blocks stay compressed here; header_block.h owns the per-connection zlib
// state. The decoder is incremental and bounded: it keeps at most one partial
// frame (never more than the configured maximum payload plus the 8-byte
// header) and refuses a frame as soon as its header shows it is bad, before
// any of the body is buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crius::streaming::spdy {

inline constexpr uint16_t kVersion = 3;
inline constexpr std::size_t kFrameHeaderSize = 8;
// The length field is 24 bits.
inline constexpr std::size_t kMaxWireLength = (1u << 24) - 1;
inline constexpr std::size_t kDefaultMaxPayload = 1u << 20;
inline constexpr uint32_t kDefaultWindow = 64 * 1024;
inline constexpr uint32_t kMaxWindow = 0x7fffffff;

// Control frame types; `data` is ours, for the frames whose control bit is 0.
enum class FrameType : uint16_t {
  data = 0,
  syn_stream = 1,
  syn_reply = 2,
  rst_stream = 3,
  settings = 4,
  ping = 6,
  goaway = 7,
  headers = 8,
  window_update = 9,
};

inline constexpr uint8_t kFlagFin = 0x01;             // DATA, SYN_STREAM, SYN_REPLY, HEADERS
inline constexpr uint8_t kFlagUnidirectional = 0x02;  // SYN_STREAM
inline constexpr uint8_t kFlagClearSettings = 0x01;   // SETTINGS

// RST_STREAM status codes.
enum RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

// GOAWAY status codes.
enum GoAwayStatus : uint32_t { kGoAwayOk = 0, kGoAwayProtocolError = 1, kGoAwayInternalError = 2 };

// SETTINGS ids (24 bits on the wire, with 8 bits of flags above them).
enum SettingId : uint32_t {
  kSettingMaxConcurrentStreams = 4,
  kSettingInitialWindowSize = 7,
};

struct Setting {
  uint8_t flags = 0;
  uint32_t id = 0;  // 24 bits
  uint32_t value = 0;
  bool operator==(const Setting&) const = default;
};

// One frame, flattened: each type uses the fields its comment names.
struct Frame {
  FrameType type = FrameType::data;
  uint8_t flags = 0;
  // DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE (0 for
  // the session window); GOAWAY: the last stream id the sender accepted.
  uint32_t stream_id = 0;
  uint32_t associated_id = 0;  // SYN_STREAM
  uint8_t priority = 0;        // SYN_STREAM, 3 bits
  uint8_t slot = 0;            // SYN_STREAM
  uint32_t status = 0;         // RST_STREAM, GOAWAY
  uint32_t ping_id = 0;        // PING
  uint32_t delta = 0;          // WINDOW_UPDATE, 31 bits
  std::vector<Setting> settings;  // SETTINGS
  // DATA: the bytes; SYN_STREAM, SYN_REPLY, HEADERS: the compressed header block.
  std::string payload;

  bool operator==(const Frame&) const = default;
};

// A peer broke the protocol. Connection-level by default; `stream_id` and
// `status` say when only one stream is at fault (RST_STREAM suffices).
class ProtocolError : public std::runtime_error {
 public:
  explicit ProtocolError(const std::string& what, uint32_t stream_id = 0, uint32_t status = kProtocolError)
      : std::runtime_error("spdy: " + what), stream_id_(stream_id), status_(status) {}
  uint32_t stream_id() const { return stream_id_; }
  uint32_t status() const { return status_; }

 private:
  uint32_t stream_id_;
  uint32_t status_;
};

// Incremental decoder. feed() never throws and buffers at most one partial
// frame; next() hands out decoded frames in order and, once they are all
// taken, throws the ProtocolError that stopped decoding (for good: the byte
// stream cannot be resynchronised after a bad frame).
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload = kDefaultMaxPayload);

  void feed(std::string_view bytes);
  std::optional<Frame> next();

  // Bytes held: the partial frame and the decoded frames not yet taken.
  std::size_t buffered() const { return buffered_; }
  bool failed() const { return error_.has_value(); }

 private:
  void on_header();
  void on_body();

  std::size_t max_payload_;
  char header_[kFrameHeaderSize];
  std::size_t header_have_ = 0;
  bool in_body_ = false;
  bool skip_ = false;  // an unknown control type: read past its body
  std::size_t body_len_ = 0;
  std::string body_;
  std::deque<Frame> ready_;
  std::size_t buffered_ = 0;
  std::optional<ProtocolError> error_;
};

// Encoders, one per frame type; each returns the whole frame on the wire.
// They throw std::invalid_argument for values the format cannot carry (a
// payload longer than 24 bits, a stream id over 31 bits).
std::string encode_data(uint32_t stream_id, std::string_view data, uint8_t flags = 0);
std::string encode_syn_stream(uint32_t stream_id, uint32_t associated_id, uint8_t priority, uint8_t flags,
                              std::string_view header_block, uint8_t slot = 0);
std::string encode_syn_reply(uint32_t stream_id, uint8_t flags, std::string_view header_block);
std::string encode_rst_stream(uint32_t stream_id, uint32_t status);
std::string encode_settings(const std::vector<Setting>& settings, uint8_t flags = 0);
std::string encode_ping(uint32_t id);
std::string encode_goaway(uint32_t last_good_stream_id, uint32_t status);
std::string encode_headers(uint32_t stream_id, uint8_t flags, std::string_view header_block);
std::string encode_window_update(uint32_t stream_id, uint32_t delta);
// Any frame, by its type.
std::string encode(const Frame& f);

const char* frame_type_name(FrameType t);

}  // namespace crius::streaming::spdy
