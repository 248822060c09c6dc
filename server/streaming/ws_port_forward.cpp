// portforward over a WebSocket, the channel form: for the i-th port of the
// request, channel 2i carries its data both ways and 2i+1 its errors; the
// first message on each is the port, two bytes little-endian. One
// connection per port; the session ends when every one has.
#include <vector>

#include "base/log.h"
#include "server/streaming/handlers.h"
#include "server/streaming/socket_relay.h"
#include "server/streaming/ws_channels.h"

namespace crius::streaming {

namespace {

class WsPortForward : public std::enable_shared_from_this<WsPortForward> {
 public:
  WsPortForward(std::shared_ptr<WsConn> ws, const std::string& protocol, PortForwardRequest r,
                std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot)
      : ws_(std::move(ws)), codec_(protocol.find("base64.") != std::string::npos), request_(std::move(r)),
        ctx_(std::move(ctx)), slot_(std::move(slot)), ports_(request_.ports.size()) {}

  void start() {
    for (size_t i = 0; i < ports_.size(); ++i) {
      const auto port = static_cast<uint16_t>(request_.ports[i]);
      const std::string le{static_cast<char>(port & 0xff), static_cast<char>(port >> 8)};
      ws_->write(codec_.encode(static_cast<uint8_t>(2 * i), le), codec_.binary());
      ws_->write(codec_.encode(static_cast<uint8_t>(2 * i + 1), le), codec_.binary());
      connect(i, port);
    }
    read();
  }

 private:
  struct Port {
    std::shared_ptr<SocketRelay> relay;
    std::vector<std::string> early;  // data from the client before the connection
    bool done = false;
  };

  void connect(size_t i, uint16_t port) {
    Context* ctx = ctx_.get();
    ctx_->blocking<std::shared_ptr<Fd>>(
        [ctx, pod = request_.pod_id, port] { return std::make_shared<Fd>(ctx->backend->connect(pod, port)); },
        [weak = weak_from_this(), i, port](std::shared_ptr<Fd> fd, std::string error) {
          auto self = weak.lock();
          if (!self || self->closed_) return;
          if (!error.empty())
            return self->port_done(i, "error forwarding port " + std::to_string(port) + " to pod " +
                                          self->request_.pod_id + ": " + error);
          self->relay(i, std::move(*fd));
        });
  }

  void relay(size_t i, Fd fd) {
    std::weak_ptr<WsPortForward> weak = weak_from_this();
    SocketRelay::Peer peer;
    peer.write = [weak, i](std::string d, std::function<void(bool)> sent) {
      auto self = weak.lock();
      if (!self) return sent(false);
      self->ws_->write(self->codec_.encode(static_cast<uint8_t>(2 * i), d), self->codec_.binary(), std::move(sent));
    };
    peer.ended = [weak, i](const std::string& error) {
      if (auto self = weak.lock()) self->port_done(i, error.empty() ? "" : "error forwarding to pod: " + error);
    };
    Port& p = ports_[i];
    p.relay = std::make_shared<SocketRelay>(ctx_->io, std::move(fd), std::move(peer));
    for (auto& d : p.early) p.relay->send(std::move(d), {});
    p.early.clear();
    p.relay->start();
  }

  void port_done(size_t i, const std::string& error) {
    Port& p = ports_[i];
    if (p.done) return;
    p.done = true;
    if (!error.empty()) {
      log::info("streaming: port-forward connection failed", {{"pod", request_.pod_id}, {"error", error}});
      ws_->write(codec_.encode(static_cast<uint8_t>(2 * i + 1), error), codec_.binary());
    }
    if (p.relay) p.relay->close();
    for (const auto& q : ports_)
      if (!q.done) return;
    ws_->close();
  }

  void read() {
    ws_->read([self = shared_from_this()](boost::system::error_code ec, std::string msg) {
      if (ec) return self->closed();
      auto m = self->codec_.decode(msg);
      if (!m || m->channel % 2 != 0 || m->channel / 2 >= self->ports_.size()) return self->read();
      Port& p = self->ports_[m->channel / 2];
      if (p.done) return self->read();
      if (!p.relay) {
        p.early.push_back(std::move(m->data));
        return self->read();
      }
      // The next message once this one is in the socket: bounded memory.
      // The session lives on in this callback meanwhile.
      p.relay->send(std::move(m->data), [self] { self->read(); });
    });
  }

  void closed() {
    closed_ = true;
    for (auto& p : ports_)
      if (p.relay) p.relay->close();
    ports_.clear();
    ws_->abort();
    slot_.reset();
  }

  std::shared_ptr<WsConn> ws_;
  ChannelCodec codec_;
  PortForwardRequest request_;
  std::shared_ptr<Context> ctx_;
  std::shared_ptr<SessionSlot> slot_;
  std::vector<Port> ports_;
  bool closed_ = false;
};

}  // namespace

void serve_ws_port_forward(std::shared_ptr<WsConn> ws, const std::string& protocol, PortForwardRequest r,
                           std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot) {
  std::make_shared<WsPortForward>(std::move(ws), protocol, std::move(r), std::move(ctx), std::move(slot))->start();
}

}  // namespace crius::streaming
