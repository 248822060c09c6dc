// remotecommand over a WebSocket: channels 0 stdin, 1 stdout, 2 stderr,
// 3 error, 4 resize in every message's first byte. On open an empty message
// on the lowest channel the server writes tells the client it is connected;
// v5 adds the client's half-close of a channel ([255, channel]); v4 and v5
// carry the status as JSON, older forms as text. The end is a close frame.
#include <boost/asio/steady_timer.hpp>

#include "base/log.h"
#include "server/streaming/handlers.h"
#include "server/streaming/remote_command.h"
#include "server/streaming/ws_channels.h"

namespace crius::streaming {

namespace {

constexpr uint8_t kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4, kClose = 255;
constexpr std::chrono::seconds kFinishTimeout{60};

class WsRemoteCommand : public std::enable_shared_from_this<WsRemoteCommand> {
 public:
  WsRemoteCommand(std::shared_ptr<WsConn> ws, const std::string& protocol, Request r, std::shared_ptr<Context> ctx,
                  std::shared_ptr<SessionSlot> slot)
      : ws_(std::move(ws)), codec_(protocol.find("base64.") != std::string::npos),
        json_status_(protocol.rfind("v4.", 0) == 0 || protocol.rfind("v5.", 0) == 0),
        close_signal_(protocol == "v5.channel.k8s.io"), request_(std::move(r)), ctx_(std::move(ctx)),
        slot_(std::move(slot)), timer_(ctx_->io) {
    std::visit(
        [this](const auto& q) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(q)>, PortForwardRequest>) {
            stdin_ = q.stdin;
            stdout_ = q.stdout;
            stderr_ = q.stderr && !q.tty;
          }
        },
        request_);
  }

  void start() {
    const uint8_t hello = stdout_ ? kStdout : stderr_ ? kStderr : kError;
    ws_->write(codec_.encode(hello, ""), codec_.binary());
    std::weak_ptr<WsRemoteCommand> weak = weak_from_this();
    auto writer = [weak](uint8_t ch) -> RemoteCommand::Client::Write {
      return [weak, ch](std::string d, std::function<void(bool)> sent) {
        auto self = weak.lock();
        if (!self) return sent(false);
        self->ws_->write(self->codec_.encode(ch, d), self->codec_.binary(), std::move(sent));
      };
    };
    RemoteCommand::Client c;
    if (stdout_) c.stdout_w = writer(kStdout);
    if (stderr_) c.stderr_w = writer(kStderr);
    c.finish = [weak](const Outcome& o) {
      if (auto self = weak.lock()) self->finish(o);
    };
    rc_ = std::make_shared<RemoteCommand>(ctx_, request_, std::move(c));
    if (!stdin_) rc_->stdin_closed();
    rc_->begin();
    read();
  }

 private:
  void read() {
    ws_->read([self = shared_from_this()](boost::system::error_code ec, std::string msg) {
      if (ec) return self->closed(ec.message());
      self->on_message(std::move(msg));
    });
  }

  void on_message(std::string msg) {
    if (close_signal_ && msg.size() == 2 && static_cast<uint8_t>(msg[0]) == kClose) {
      if (static_cast<uint8_t>(msg[1]) == kStdin && stdin_ && rc_) rc_->stdin_closed();
      return read();
    }
    auto m = codec_.decode(msg);
    if (!m || !rc_) return read();
    if (m->channel == kStdin && stdin_) {
      // The next message is read once this one reached the process, so a
      // client that outpaces it is held back instead of buffered. The
      // session lives on in this callback meanwhile.
      rc_->stdin_data(std::move(m->data), [self = shared_from_this()] { self->read(); });
      return;
    }
    if (m->channel == kResize) rc_->resize_data(m->data);
    read();
  }

  void finish(const Outcome& o) {
    const std::string status = json_status_ ? status_json(o) : status_text(o);
    if (!status.empty()) ws_->write(codec_.encode(kError, status), codec_.binary());
    ws_->close();
    timer_.expires_after(kFinishTimeout);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->ws_->abort();
    });
  }

  void closed(const std::string& why) {
    if (done_) return;
    done_ = true;
    if (rc_ && !rc_->finished()) log::info("streaming: the client went away", {{"why", why}});
    timer_.cancel();
    if (rc_) rc_->client_gone();
    rc_.reset();
    ws_->abort();
    slot_.reset();
  }

  std::shared_ptr<WsConn> ws_;
  ChannelCodec codec_;
  bool json_status_, close_signal_;
  Request request_;
  std::shared_ptr<Context> ctx_;
  std::shared_ptr<SessionSlot> slot_;
  boost::asio::steady_timer timer_;
  bool stdin_ = false, stdout_ = false, stderr_ = false, done_ = false;
  std::shared_ptr<RemoteCommand> rc_;
};

}  // namespace

void serve_ws_remote_command(std::shared_ptr<WsConn> ws, const std::string& protocol, Request r,
                             std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot) {
  std::make_shared<WsRemoteCommand>(std::move(ws), protocol, std::move(r), std::move(ctx), std::move(slot))->start();
}

}  // namespace crius::streaming
