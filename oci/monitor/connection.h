// A client's connection to the monitor: length-prefixed CBOR requests in,
// responses out (see protocol.h), both buffered, on a non-blocking socket.
// After exec or attach it carries stream frames instead (start_stream).
// The monitor's loop registers it, serves its requests and closes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/watch.h"

namespace crius::oci::monitor::detail {

class Connection : public Watch {
 public:
  using Ready = std::function<void(Connection*, uint32_t events)>;
  Connection(uint64_t id, Fd fd, Ready on_ready) : id_(id), fd_(std::move(fd)), on_ready_(std::move(on_ready)) {}
  void on_event(uint32_t events) override { on_ready_(this, events); }

  uint64_t id() const { return id_; }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  // Reads everything the socket holds now. False at EOF or on an error:
  // the client is gone.
  bool receive();
  // The next complete request, taken from the input; nullopt while none is
  // complete. A frame too large or malformed is answered with an error,
  // after which the connection serves nothing more and is to be closed
  // once the answer is written (close_after).
  std::optional<nlohmann::json> next_request();

  // Adds a response to the output (an error response instead when it
  // cannot be encoded).
  void queue(const nlohmann::json& message);
  // Writes what the socket takes now. False when the client is gone.
  bool send_some();
  bool has_output() const { return !out_.empty(); }
  // At exit: writes the rest of the output, waiting for the client.
  void send_rest();

  // Stream mode: from now on the input is cut into frames (what arrived
  // after the request included) and no request is served.
  void start_stream();
  bool streaming() const { return frames_ != nullptr; }
  // The next frame from the client; nullopt while none is complete. Throws
  // InvalidArgument for a frame that is too large or on no known channel.
  std::optional<protocol::Frame> next_frame() { return frames_->next(); }
  // Adds a frame to the output (payloads longer than a frame are split).
  void queue_frame(protocol::Channel channel, std::string_view payload);
  size_t output_size() const { return out_.size(); }

  bool busy = false;         // an asynchronous reply is awaited
  bool close_after = false;  // close once the output is written
  bool reading = true;       // watched for input (off while a stdin backlog is too long)
  // Set by the stream's owner: a frame from the client; the monitor is
  // closing the connection (the client left, or the exit frame is out); the
  // output was written down to below a cap.
  std::function<void(const protocol::Frame&)> on_frame;
  std::function<void()> on_close;
  std::function<void()> on_drained;

 private:
  void refuse(const nlohmann::json& response);

  uint64_t id_;
  Fd fd_;
  Ready on_ready_;
  std::string in_, out_;
  std::unique_ptr<protocol::FrameReader> frames_;
};

}  // namespace crius::oci::monitor::detail
