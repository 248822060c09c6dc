#include "oci/monitor/connection.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "oci/monitor/protocol.h"

namespace crius::oci::monitor::detail {

using nlohmann::json;

namespace {
constexpr size_t kStreamReadLimit = 256 << 10;
}  // namespace

bool Connection::receive() {
  const auto buf = read_buffer();
  // A stream reads a bounded amount per event (the rest waits in the socket,
  // level-triggered), so that a client sending stdin fast cannot grow the
  // input without limit before it is written on.
  size_t streamed = 0;
  for (;;) {
    if (frames_ && streamed >= kStreamReadLimit) return true;
    ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n > 0) {
      if (frames_) {
        frames_->feed({buf.data(), static_cast<size_t>(n)});
        streamed += static_cast<size_t>(n);
      } else {
        in_.append(buf.data(), n);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
}

std::optional<json> Connection::next_request() {
  if (close_after || in_.size() < 4) {
    // Keep the buffer small between requests: one monitor per pod on every node.
    if (in_.empty()) std::string().swap(in_);
    return std::nullopt;
  }
  const uint32_t len = protocol::frame_length(reinterpret_cast<const unsigned char*>(in_.data()));
  if (len > protocol::kMaxMessage) {
    refuse(protocol::error_response(ErrorCode::invalid_argument, "message too large"));
    return std::nullopt;
  }
  if (in_.size() < 4 + size_t{len}) return std::nullopt;
  json request;
  try {
    request = protocol::decode(std::string_view(in_).substr(4, len));
  } catch (const crius::Error& e) {
    refuse(protocol::error_response(e));
    return std::nullopt;
  }
  in_.erase(0, 4 + size_t{len});
  return request;
}

void Connection::start_stream() {
  frames_ = std::make_unique<protocol::FrameReader>();
  frames_->feed(in_);
  std::string().swap(in_);
}

void Connection::queue_frame(protocol::Channel channel, std::string_view payload) {
  do {
    const std::string_view part = payload.substr(0, protocol::kMaxFrame);
    protocol::append_frame(out_, channel, part);
    payload.remove_prefix(part.size());
  } while (!payload.empty());
}

void Connection::refuse(const json& response) {
  close_after = true;
  queue(response);
}

void Connection::queue(const json& message) {
  try {
    out_ += protocol::encode(message);
  } catch (const crius::Error& e) {
    out_ += protocol::encode(protocol::error_response(e));
  }
}

bool Connection::send_some() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n < 0) return false;
    out_.erase(0, n);
  }
  std::string().swap(out_);
  return true;
}

void Connection::send_rest() {
  if (out_.empty()) return;
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK);
  // The monitor is exiting: a client that is gone is only noted.
  if (!write_all(fd_.get(), out_.data(), out_.size()))
    log::debug("a reply was not delivered before exiting", {{"error", std::strerror(errno)}});
  out_.clear();
}

}  // namespace crius::oci::monitor::detail
