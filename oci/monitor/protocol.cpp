#include "oci/monitor/protocol.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "base/big_endian.h"

namespace crius::oci::monitor::protocol {

std::string encode(const nlohmann::json& message) {
  std::vector<uint8_t> body = nlohmann::json::to_cbor(message);
  if (body.size() > kMaxMessage)
    throw crius::Error(ErrorCode::resource_exhausted,
                       "monitor message of " + std::to_string(body.size()) + " bytes exceeds the limit");
  const auto n = static_cast<uint32_t>(body.size());
  std::string out;
  out.reserve(4 + body.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(reinterpret_cast<const char*>(body.data()), body.size());
  return out;
}

namespace {

constexpr size_t kMaxDepth = 64;

// Walks a body's CBOR item headers without recursion before nlohmann reads
// it: its reader recurses once per nested array or map and once per chunk of
// an indefinite-length string, so a hostile body of either kind overflowed
// the stack (both found by monitor_protocol_fuzz). Our encoder (to_cbor)
// writes definite lengths only, so indefinite ones are refused outright.
void check_shape(std::string_view body) {
  const auto* p = reinterpret_cast<const uint8_t*>(body.data());
  const size_t n = body.size();
  auto bad = [](const std::string& why) { throw InvalidArgument("malformed monitor message: " + why); };
  size_t i = 0;
  std::vector<uint64_t> open;  // items each open array, map or tag still holds
  do {
    if (i >= n) bad("truncated");
    const uint8_t b = p[i++];
    const int major = b >> 5, ai = b & 0x1f;
    if (ai == 31) bad("indefinite length");
    if (ai >= 28) bad("reserved length encoding");
    uint64_t v = ai;
    if (ai >= 24) {
      const size_t len = size_t{1} << (ai - 24);
      if (n - i < len) bad("truncated");
      v = 0;
      for (size_t k = 0; k < len; ++k) v = (v << 8) | p[i++];
    }
    if (!open.empty()) --open.back();
    if (major == 2 || major == 3) {  // byte and text strings
      if (v > n - i) bad("truncated");
      i += v;
    } else if (major == 4 || major == 5 || major == 6) {  // arrays, maps, tags
      if (major != 6 && v > n - i) bad("truncated");
      const uint64_t items = major == 5 ? 2 * v : major == 6 ? 1 : v;
      if (items > 0) {
        if (open.size() >= kMaxDepth) bad("nested deeper than " + std::to_string(kMaxDepth) + " levels");
        open.push_back(items);
      }
    }
    while (!open.empty() && open.back() == 0) open.pop_back();
  } while (!open.empty());
}

}  // namespace

nlohmann::json decode(std::string_view body) {
  check_shape(body);
  try {
    auto j = nlohmann::json::from_cbor(reinterpret_cast<const uint8_t*>(body.data()),
                                       reinterpret_cast<const uint8_t*>(body.data()) + body.size());
    if (!j.is_object()) throw InvalidArgument("monitor message is not a map");
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("malformed monitor message: ") + e.what());
  }
}

uint32_t frame_length(const unsigned char* p) { return read_be32(p); }

void append_frame(std::string& out, Channel channel, std::string_view payload) {
  if (payload.size() > kMaxFrame)
    throw InvalidArgument("stream frame of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                          std::to_string(kMaxFrame));
  const auto n = static_cast<uint32_t>(payload.size());
  const char head[5] = {static_cast<char>(channel), static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                        static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(head, sizeof head);
  out.append(payload);
}

std::string encode_frame(Channel channel, std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  append_frame(out, channel, payload);
  return out;
}

namespace {
std::string cbor_text(const nlohmann::json& j) {
  const std::vector<uint8_t> b = nlohmann::json::to_cbor(j);
  return std::string(b.begin(), b.end());
}
}  // namespace

std::string resize_payload(unsigned width, unsigned height) {
  return cbor_text({{"width", width}, {"height", height}});
}

std::string exit_payload(int exit_code) { return cbor_text({{"exit_code", exit_code}}); }

std::optional<Frame> FrameReader::next() {
  if (buffered() < 5) {
    // Nothing partial left: give the memory back between bursts.
    if (buffered() == 0) {
      std::string().swap(buf_);
      pos_ = 0;
    }
    return std::nullopt;
  }
  const auto* head = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  if (head[0] > static_cast<unsigned char>(Channel::exit))
    throw InvalidArgument("stream frame on unknown channel " + std::to_string(head[0]));
  const uint32_t len = frame_length(head + 1);
  if (len > max_)
    throw InvalidArgument("stream frame of " + std::to_string(len) + " bytes exceeds the limit of " +
                          std::to_string(max_));
  if (buffered() < 5 + size_t{len}) return std::nullopt;
  Frame f;
  f.channel = static_cast<Channel>(head[0]);
  f.payload.assign(buf_, pos_ + 5, len);
  pos_ += 5 + size_t{len};
  // Compact once the consumed part dominates, so a long stream stays small.
  if (pos_ >= buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (64u << 10) && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return f;
}

namespace {
const std::pair<ErrorCode, const char*> kCodes[] = {
    {ErrorCode::invalid_argument, "invalid_argument"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::already_exists, "already_exists"},
    {ErrorCode::failed_precondition, "failed_precondition"},
    {ErrorCode::deadline_exceeded, "deadline_exceeded"},
    {ErrorCode::unimplemented, "unimplemented"},
    {ErrorCode::unavailable, "unavailable"},
    {ErrorCode::resource_exhausted, "resource_exhausted"},
    {ErrorCode::permission_denied, "permission_denied"},
    {ErrorCode::unauthenticated, "unauthenticated"},
    {ErrorCode::internal, "internal"},
};
}  // namespace

std::string code_name(ErrorCode code) {
  for (const auto& [c, n] : kCodes)
    if (c == code) return n;
  return "internal";
}

ErrorCode code_from_name(const std::string& name) {
  for (const auto& [c, n] : kCodes)
    if (name == n) return c;
  return ErrorCode::internal;
}

nlohmann::json error_response(ErrorCode code, const std::string& message) {
  return {{"ok", false}, {"code", code_name(code)}, {"message", message}};
}

nlohmann::json error_response(const crius::Error& e) { return error_response(e.code(), e.what()); }

SocketPath::SocketPath(const std::string& path) : short_(path) {
  if (path.size() < sizeof(sockaddr_un::sun_path)) return;
  const auto slash = path.rfind('/');
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  dir_.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_) throw_errno("open " + dir + " for the socket " + path);
  short_ = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(dir_.get()) + "/" + path.substr(slash + 1);
  if (short_.size() >= sizeof(sockaddr_un::sun_path)) throw InvalidArgument("socket name too long: " + path);
}

unsigned SocketPath::fill(void* addr) const {
  auto* a = static_cast<sockaddr_un*>(addr);
  std::memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  std::memcpy(a->sun_path, short_.c_str(), short_.size() + 1);
  return sizeof *a;
}

nlohmann::json bytes(std::string_view data) {
  return nlohmann::json::binary(std::vector<uint8_t>(data.begin(), data.end()));
}

std::string bytes_of(const nlohmann::json& value) {
  if (value.is_binary()) {
    const auto& b = value.get_binary();
    return std::string(b.begin(), b.end());
  }
  if (value.is_string()) return value.get<std::string>();
  return {};
}

}  // namespace crius::oci::monitor::protocol
