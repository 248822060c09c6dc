// The carriers, over a Beast stream (TCP, or TLS over TCP): a Transport for
// SPDY's bytes, and a WsConn for WebSocket messages. Internal to server.cpp,
// which instantiates them for both stream types.
#pragma once

#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "server/streaming/transport.h"
#include "server/streaming/ws_conn.h"

namespace crius::streaming {

namespace beast = boost::beast;
namespace asio = boost::asio;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Closes a connection that moved no byte either way for `timeout`.
class IdleWatch : public std::enable_shared_from_this<IdleWatch> {
 public:
  IdleWatch(asio::any_io_executor io, std::chrono::seconds timeout, std::function<void()> on_idle)
      : timer_(io), timeout_(timeout), on_idle_(std::move(on_idle)) {}
  void start() {
    if (timeout_.count() > 0) arm(timeout_);
  }
  void touch() { last_ = std::chrono::steady_clock::now(); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm(std::chrono::steady_clock::duration d) {
    timer_.expires_after(d);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->stopped_) return;
      const auto idle = std::chrono::steady_clock::now() - self->last_;
      if (idle >= self->timeout_) {
        self->stopped_ = true;
        if (self->on_idle_) self->on_idle_();
        return;
      }
      self->arm(self->timeout_ - idle);
    });
  }
  asio::steady_timer timer_;
  std::chrono::seconds timeout_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::function<void()> on_idle_;
  bool stopped_ = false;
};

template <class S>
void close_lowest(S& s) {
  boost::system::error_code ignored;
  beast::get_lowest_layer(s).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(s).socket().close(ignored);
}

template <class S>
class StreamTransport : public Transport {
 public:
  StreamTransport(S stream, std::chrono::seconds idle)
      : stream_(std::move(stream)), executor_(stream_.get_executor()) {
    beast::get_lowest_layer(stream_).expires_never();
    idle_ = std::make_shared<IdleWatch>(executor_, idle, [this] { close(); });
    idle_->start();
  }
  ~StreamTransport() override { idle_->stop(); }
  void async_read_some(asio::mutable_buffer buf, IoHandler done) override {
    stream_.async_read_some(buf, [idle = idle_, done = std::move(done)](boost::system::error_code ec, size_t n) {
      idle->touch();
      done(ec, n);
    });
  }
  void async_write(asio::const_buffer buf, IoHandler done) override {
    asio::async_write(stream_, buf, [idle = idle_, done = std::move(done)](boost::system::error_code ec, size_t n) {
      idle->touch();
      done(ec, n);
    });
  }
  void close() override {
    idle_->stop();
    close_lowest(stream_);
  }
  asio::any_io_executor executor() override { return executor_; }

 private:
  S stream_;
  asio::any_io_executor executor_;
  std::shared_ptr<IdleWatch> idle_;
};

template <class S>
class BeastWs : public WsConn, public std::enable_shared_from_this<BeastWs<S>> {
 public:
  BeastWs(S stream, size_t max_message) : ws_(std::move(stream)) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.read_message_max(max_message);
  }

  // The handshake, answering the request the server already read.
  template <class Request>
  void accept(const Request& req, const std::string& protocol, std::chrono::seconds idle,
              std::function<void(boost::system::error_code)> done) {
    namespace websocket = beast::websocket;
    websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::server);
    t.idle_timeout = idle.count() > 0 ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(idle)
                                      : websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
      res.set(beast::http::field::server, "crius");
      if (!protocol.empty()) res.set(beast::http::field::sec_websocket_protocol, protocol);
    }));
    ws_.async_accept(req, [self = this->shared_from_this(), done = std::move(done)](boost::system::error_code ec) {
      done(ec);
    });
  }

  void read(std::function<void(boost::system::error_code, std::string)> done) override {
    ws_.async_read(rbuf_, [self = this->shared_from_this(), done = std::move(done)](boost::system::error_code ec,
                                                                                    size_t) {
      std::string msg = beast::buffers_to_string(self->rbuf_.data());
      self->rbuf_.consume(self->rbuf_.size());
      done(ec, std::move(msg));
    });
  }

  void write(std::string message, bool binary, std::function<void(bool)> sent) override {
    if (dead_) {
      if (sent) sent(false);
      return;
    }
    queued_ += message.size();
    queue_.push_back({std::move(message), binary, std::move(sent)});
    next();
  }

  void close() override {
    closing_ = true;
    next();
  }

  void abort() override {
    dead_ = true;
    close_lowest(ws_.next_layer());
  }

  size_t queued_bytes() const override { return queued_; }

 private:
  struct Out {
    std::string data;
    bool binary;
    std::function<void(bool)> sent;
  };

  void next() {
    if (writing_ || dead_) return;
    if (queue_.empty()) {
      if (closing_ && !close_sent_) {
        close_sent_ = true;
        writing_ = true;
        ws_.async_close(beast::websocket::close_code::normal,
                        [self = this->shared_from_this()](boost::system::error_code) { self->writing_ = false; });
      }
      return;
    }
    writing_ = true;
    ws_.binary(queue_.front().binary);
    ws_.async_write(asio::buffer(queue_.front().data),
                    [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      Out o = std::move(self->queue_.front());
                      self->queue_.pop_front();
                      self->queued_ -= o.data.size();
                      if (ec) self->dead_ = true;
                      if (o.sent) o.sent(!ec);
                      if (ec) {
                        for (auto& q : self->queue_)
                          if (q.sent) q.sent(false);
                        self->queue_.clear();
                        self->queued_ = 0;
                        return;
                      }
                      self->next();
                    });
  }

  beast::websocket::stream<S> ws_;
  beast::flat_buffer rbuf_;
  std::deque<Out> queue_;
  size_t queued_ = 0;
  bool writing_ = false, closing_ = false, close_sent_ = false, dead_ = false;
};

}  // namespace crius::streaming
