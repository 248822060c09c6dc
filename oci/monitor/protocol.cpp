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

// nlohmann's CBOR reader recurses once per nested array or map, so a hostile
// body of nested arrays overflowed the stack (found by monitor_protocol_fuzz).
// Its DOM builder, stopped past a depth no real message comes near.
constexpr int kMaxDepth = 64;

class BoundedDom : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
  using Base = nlohmann::detail::json_sax_dom_parser<nlohmann::json>;

 public:
  explicit BoundedDom(nlohmann::json& out) : Base(out, true) {}
  bool start_object(std::size_t n) { return ++depth_ <= kMaxDepth && Base::start_object(n); }
  bool start_array(std::size_t n) { return ++depth_ <= kMaxDepth && Base::start_array(n); }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }
  bool too_deep() const { return depth_ > kMaxDepth; }

 private:
  int depth_ = 0;
};

}  // namespace

nlohmann::json decode(std::string_view body) {
  try {
    nlohmann::json j;
    BoundedDom dom(j);
    const auto* first = reinterpret_cast<const uint8_t*>(body.data());
    const bool whole = nlohmann::json::sax_parse(first, first + body.size(), &dom, nlohmann::json::input_format_t::cbor);
    if (dom.too_deep())
      throw InvalidArgument("monitor message nests deeper than " + std::to_string(kMaxDepth) + " levels");
    if (!whole) throw InvalidArgument("malformed monitor message");
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
