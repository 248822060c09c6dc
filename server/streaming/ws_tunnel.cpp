// The SPDY-over-WebSocket tunnel (subprotocol "SPDY/3.1+portforward.k8s.io",
// kubectl port-forward 1.31+): the SPDY session's bytes travel as binary
// messages, so the session runs over this Transport unchanged.
#include <algorithm>
#include <cstring>

#include <boost/asio/post.hpp>

#include "server/streaming/ws_conn.h"

namespace crius::streaming {

namespace {

class TunnelTransport : public Transport {
 public:
  TunnelTransport(std::shared_ptr<WsConn> ws, boost::asio::any_io_executor io) : ws_(std::move(ws)), io_(io) {}
  ~TunnelTransport() override {
    *alive_ = false;
    ws_->abort();
  }

  void async_read_some(boost::asio::mutable_buffer buf, IoHandler done) override {
    if (!pending_.empty()) return deliver(buf, std::move(done));
    ws_->read([this, buf, done = std::move(done), alive = alive_](boost::system::error_code ec,
                                                                  std::string msg) mutable {
      if (!*alive) return;
      if (ec) return done(ec, 0);
      pending_ = std::move(msg);
      if (pending_.empty()) return async_read_some(buf, std::move(done));
      deliver(buf, std::move(done));
    });
  }

  void async_write(boost::asio::const_buffer buf, IoHandler done) override {
    const size_t n = buf.size();
    ws_->write(std::string(static_cast<const char*>(buf.data()), n), true, [done = std::move(done), n](bool ok) {
      done(ok ? boost::system::error_code() : boost::asio::error::broken_pipe, ok ? n : 0);
    });
  }

  void close() override { ws_->abort(); }
  boost::asio::any_io_executor executor() override { return io_; }

 private:
  void deliver(boost::asio::mutable_buffer buf, IoHandler done) {
    const size_t n = std::min(buf.size(), pending_.size());
    std::memcpy(buf.data(), pending_.data(), n);
    pending_.erase(0, n);
    boost::asio::post(io_, [done = std::move(done), n] { done({}, n); });
  }

  std::shared_ptr<WsConn> ws_;
  boost::asio::any_io_executor io_;
  std::string pending_;
  // Reads completing after this transport is gone do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  TunnelTransport(const TunnelTransport&) = delete;
};

}  // namespace

std::unique_ptr<Transport> tunnel_transport(std::shared_ptr<WsConn> ws, boost::asio::any_io_executor io) {
  return std::make_unique<TunnelTransport>(std::move(ws), io);
}

}  // namespace crius::streaming
