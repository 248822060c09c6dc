#include "server/streaming/socket_relay.h"

#include <boost/asio/write.hpp>

namespace crius::streaming {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr size_t kChunk = 32 * 1024;
}

SocketRelay::SocketRelay(asio::any_io_executor io, Fd connected, Peer peer) : socket_(io), peer_(std::move(peer)) {
  // Both families: the backend connects over IPv4 or IPv6 loopback.
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const bool v6 = ::getsockname(connected.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0 &&
                  ss.ss_family == AF_INET6;
  // The Fd keeps the socket until asio has taken it (assign can fail).
  boost::system::error_code ec;
  socket_.assign(v6 ? tcp::v6() : tcp::v4(), connected.get(), ec);
  if (ec) throw boost::system::system_error(ec, "adopting a forwarded connection");
  connected.release();
}

void SocketRelay::start() { read_more(); }

void SocketRelay::read_more() {
  if (closed_) return;
  buf_.resize(kChunk);
  socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
    if (self->closed_) return;
    if (ec) {
      const bool eof = ec == asio::error::eof;
      if (self->peer_.ended) self->peer_.ended(eof ? std::string() : ec.message());
      return;
    }
    self->peer_.write(self->buf_.substr(0, n), [weak = std::weak_ptr(self)](bool ok) {
      if (auto s = weak.lock(); s && ok) s->read_more();
    });
  });
}

void SocketRelay::send(std::string data, std::function<void()> written) {
  if (closed_) {
    if (written) written();
    return;
  }
  queue_.emplace_back(std::move(data), std::move(written));
  write_next();
}

void SocketRelay::write_next() {
  if (writing_ || closed_) return;
  if (queue_.empty()) {
    if (shutdown_after_) {
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
    }
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(queue_.front().first),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      if (self->queue_.empty()) return;
                      auto done = std::move(self->queue_.front().second);
                      self->queue_.erase(self->queue_.begin());
                      if (done) done();
                      if (ec) {
                        if (!self->closed_ && self->peer_.ended) self->peer_.ended(ec.message());
                        self->close();
                        return;
                      }
                      self->write_next();
                    });
}

void SocketRelay::shutdown_send() {
  shutdown_after_ = true;
  write_next();
}

void SocketRelay::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  for (auto& [d, done] : queue_)
    if (done) done();
  queue_.clear();
}

}  // namespace crius::streaming
