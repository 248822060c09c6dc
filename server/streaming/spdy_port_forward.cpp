// portforward.k8s.io over SPDY: each forwarded connection is a pair of
// streams, data and error, with the same requestID header (or, from old
// clients without one, paired by stream ID) and the port in the data
// stream's header. Once both are there, a connection to the port is made in
// the pod and relayed; a failure is written on that pair's error stream and
// leaves the other pairs alone.
#include <map>

#include <boost/asio/steady_timer.hpp>

#include "base/log.h"
#include "server/streaming/handlers.h"
#include "server/streaming/socket_relay.h"
#include "server/streaming/spdy/session.h"

namespace crius::streaming {

namespace {

struct Pair {
  std::shared_ptr<spdy::Stream> data, error;
  std::shared_ptr<SocketRelay> relay;
  std::unique_ptr<boost::asio::steady_timer> timer;
  bool client_done = false, pod_done = false;
};

// Once one direction of a forwarded connection has ended, how long the
// other may take before the pair is closed (containerd's grace, too).
constexpr std::chrono::seconds kHalfClosedGrace{1};

// The port of a data stream's header: 1..65535, or 0.
uint16_t parse_port(const std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) return 0;
  const int p = std::stoi(s);
  return p >= 1 && p <= 65535 ? static_cast<uint16_t>(p) : 0;
}

class SpdyPortForward : public std::enable_shared_from_this<SpdyPortForward> {
 public:
  SpdyPortForward(std::shared_ptr<spdy::Session> s, PortForwardRequest r, std::shared_ptr<Context> ctx,
                  std::shared_ptr<SessionSlot> slot)
      : session_(std::move(s)), request_(std::move(r)), ctx_(std::move(ctx)), slot_(std::move(slot)) {}

  void start() {
    auto self = shared_from_this();
    session_->on_stream = [self](std::shared_ptr<spdy::Stream> st) { self->add(std::move(st)); };
    session_->on_closed = [self](const std::string&) {
      boost::asio::post(self->ctx_->io, [self] { self->closed(); });
    };
    session_->start();
  }

 private:
  std::string request_id(const spdy::Stream& st, const std::string& type) {
    std::string id = st.header("requestid");
    if (!id.empty()) return id;
    // Old clients: a connection's streams are consecutive odd IDs, error first.
    return std::to_string(type == "error" ? st.id() : st.id() - 2);
  }

  void add(std::shared_ptr<spdy::Stream> st) {
    const std::string type = st->header("streamtype");
    if (type != "data" && type != "error") {
      log::warn("streaming: port-forward stream of unknown type", {{"type", type}});
      st->reset();
      return;
    }
    const std::string id = request_id(*st, type);
    Pair& p = pairs_[id];
    auto& slot = type == "data" ? p.data : p.error;
    if (slot) {
      if (p.error) p.error->write("error processing stream for request " + id + ": " + type + " stream already assigned");
      st->reset();
      return;
    }
    slot = st;
    if (!p.data || !p.error) {
      p.timer = std::make_unique<boost::asio::steady_timer>(ctx_->io, ctx_->opts.stream_creation_timeout);
      p.timer->async_wait([weak = weak_from_this(), id](boost::system::error_code ec) {
        if (auto self = weak.lock(); self && !ec) self->timed_out(id);
      });
      return;
    }
    p.timer.reset();
    connect(id);
  }

  void timed_out(const std::string& id) {
    auto it = pairs_.find(id);
    if (it == pairs_.end() || (it->second.data && it->second.error)) return;
    if (it->second.error) {
      it->second.error->write("timed out waiting for the data and error streams of request " + id);
      it->second.error->close_write();
    }
    if (it->second.data) it->second.data->reset();
    pairs_.erase(it);
  }

  void fail(const std::string& id, const std::string& message) {
    auto it = pairs_.find(id);
    if (it == pairs_.end()) return;
    log::info("streaming: port-forward connection failed", {{"pod", request_.pod_id}, {"error", message}});
    it->second.error->write(message);
    it->second.error->close_write();
    it->second.data->close_write();
    if (it->second.relay) it->second.relay->close();
    pairs_.erase(it);
  }

  void connect(const std::string& id) {
    Pair& p = pairs_[id];
    const std::string port_text = p.data->header("port");
    const uint16_t port = parse_port(port_text);
    const std::string prefix = "error forwarding port " + port_text + " to pod " + request_.pod_id + ": ";
    if (port == 0) {
      fail(id, prefix + "invalid port \"" + port_text + "\"");
      return;
    }
    Context* ctx = ctx_.get();
    ctx_->blocking<std::shared_ptr<Fd>>(
        [ctx, pod = request_.pod_id, port] { return std::make_shared<Fd>(ctx->backend->connect(pod, port)); },
        [weak = weak_from_this(), id, prefix](std::shared_ptr<Fd> fd, std::string error) {
          auto self = weak.lock();
          if (!self) return;
          if (!error.empty()) return self->fail(id, prefix + error);
          self->relay(id, std::move(*fd));
        });
  }

  void relay(const std::string& id, Fd fd) {
    auto it = pairs_.find(id);
    if (it == pairs_.end()) return;  // the client gave up meanwhile
    Pair& p = it->second;
    std::weak_ptr<SpdyPortForward> weak = weak_from_this();
    SocketRelay::Peer peer;
    peer.write = [data = p.data](std::string d, std::function<void(bool)> sent) {
      data->write(std::move(d), std::move(sent));
    };
    peer.ended = [weak, id](const std::string& error) {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->pairs_.find(id);
      if (it == self->pairs_.end()) return;
      if (!error.empty()) return self->fail(id, "error forwarding to pod " + self->request_.pod_id + ": " + error);
      it->second.data->close_write();
      it->second.pod_done = true;
      self->maybe_done(id);
    };
    p.relay = std::make_shared<SocketRelay>(ctx_->io, std::move(fd), std::move(peer));
    p.data->on_data = [relay = std::weak_ptr(p.relay), raw = p.data.get()](std::string_view d) {
      const size_t n = d.size();
      if (auto r = relay.lock()) r->send(std::string(d), [raw, n] { raw->consumed(n); });
    };
    p.data->on_remote_fin = [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->pairs_.find(id);
      if (it == self->pairs_.end()) return;
      it->second.relay->shutdown_send();
      it->second.client_done = true;
      self->maybe_done(id);
    };
    p.data->on_reset = [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->pairs_.find(id);
      if (it == self->pairs_.end()) return;
      it->second.relay->close();
      self->pairs_.erase(it);
    };
    p.relay->start();
    // What the client sent while the connection was being made.
    p.data->deliver_held();
  }

  // Both directions ended: the pair closes. One did: the other gets a grace.
  void maybe_done(const std::string& id) {
    auto it = pairs_.find(id);
    if (it == pairs_.end()) return;
    Pair& p = it->second;
    if (!p.client_done && !p.pod_done) return;
    if (p.client_done && p.pod_done) return end_pair(id);
    if (p.timer) return;
    p.timer = std::make_unique<boost::asio::steady_timer>(ctx_->io, kHalfClosedGrace);
    p.timer->async_wait([weak = weak_from_this(), id](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->end_pair(id);
    });
  }

  void end_pair(const std::string& id) {
    auto it = pairs_.find(id);
    if (it == pairs_.end()) return;
    Pair& p = it->second;
    if (!p.data->local_closed()) p.data->close_write();
    p.error->close_write();
    p.relay->close();
    p.data->on_data = {};
    p.data->on_remote_fin = {};
    p.data->on_reset = {};
    pairs_.erase(it);
  }

  void closed() {
    for (auto& [id, p] : pairs_) {
      if (p.relay) p.relay->close();
      for (auto* s : {&p.data, &p.error})
        if (*s) {
          (*s)->on_data = {};
          (*s)->on_remote_fin = {};
          (*s)->on_reset = {};
        }
    }
    pairs_.clear();
    session_->on_stream = {};
    session_->on_closed = {};
    slot_.reset();
  }

  std::shared_ptr<spdy::Session> session_;
  PortForwardRequest request_;
  std::shared_ptr<Context> ctx_;
  std::shared_ptr<SessionSlot> slot_;
  std::map<std::string, Pair> pairs_;
};

}  // namespace

void serve_spdy_port_forward(std::shared_ptr<spdy::Session> s, PortForwardRequest r, std::shared_ptr<Context> ctx,
                             std::shared_ptr<SessionSlot> slot) {
  std::make_shared<SpdyPortForward>(std::move(s), std::move(r), std::move(ctx), std::move(slot))->start();
}

}  // namespace crius::streaming
