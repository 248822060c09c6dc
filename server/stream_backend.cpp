#include "server/stream_backend.h"

#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <array>
#include <deque>
#include <optional>

#include <boost/asio.hpp>

#include "base/error.h"
#include "base/log.h"
#include "oci/monitor/protocol.h"
#include "sandbox/port_connect.h"

namespace crius::server {

namespace asio = boost::asio;
namespace protocol = oci::monitor::protocol;
using Channel = protocol::Channel;

namespace {

// A process's stdio through the monitor's stream frames (protocol.h), one
// output frame at a time: the next is taken once the client side has it.
class MonitorLink : public std::enable_shared_from_this<MonitorLink> {
 public:
  MonitorLink(asio::any_io_executor io, Fd fd) : sock_(io) {
    // The Fd keeps the connection until asio has taken it (assign can fail).
    boost::system::error_code ec;
    sock_.assign(asio::local::stream_protocol(), fd.get(), ec);
    if (ec) throw Internal("adopting the monitor's stream connection: " + ec.message());
    fd.release();
  }

  void start(streaming::ProcessIo::Handlers h) {
    h_ = std::move(h);
    pump();
  }

  void ack() {
    if (!awaiting_ack_) return;
    awaiting_ack_ = false;
    pump();
  }

  void send(std::string frame, std::function<void()> done) {
    if (closed_) {
      if (done) done();
      return;
    }
    queue_.emplace_back(std::move(frame), std::move(done));
    write_next();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    sock_.close(ignored);
    for (auto& [f, done] : queue_)
      if (done) done();
    queue_.clear();
  }

 private:
  // Handles the frames already read, then reads more.
  void pump() {
    while (!closed_ && !exited_ && !awaiting_ack_) {
      std::optional<protocol::Frame> f;
      try {
        f = reader_.next();
      } catch (const std::exception& e) {
        return broken(e.what());
      }
      if (!f) return read_more();
      dispatch(*f);
    }
  }

  void read_more() {
    if (reading_) return;
    reading_ = true;
    sock_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      self->reading_ = false;
      if (self->closed_) return;
      if (ec) return self->broken(ec.message());
      self->reader_.feed(std::string_view(self->buf_.data(), n));
      self->pump();
    });
  }

  void dispatch(protocol::Frame& f) {
    switch (f.channel) {
      case Channel::stdout:
      case Channel::stderr: {
        auto& handler = f.channel == Channel::stdout ? h_.stdout_data : h_.stderr_data;
        if (!handler || f.payload.empty()) return;
        awaiting_ack_ = true;
        handler(f.payload);
        return;
      }
      case Channel::exit: {
        int code = -1;
        try {
          code = protocol::decode(f.payload).value("exit_code", -1);
        } catch (const std::exception& e) {
          log::warn("streaming: unreadable exit frame from the monitor", {{"error", e.what()}});
        }
        exited_ = true;
        if (h_.exited) h_.exited(code);
        return;
      }
      default:
        return;
    }
  }

  void broken(const std::string& why) {
    if (closed_ || exited_) return;
    exited_ = true;
    if (h_.failed) h_.failed("the stream from the pod's monitor ended before the process did: " + why);
  }

  void write_next() {
    if (write_failed_) {
      for (auto& [frame, d] : queue_)
        if (d) d();
      queue_.clear();
      return;
    }
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    asio::async_write(sock_, asio::buffer(queue_.front().first),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (self->queue_.empty()) return;
                        auto done = std::move(self->queue_.front().second);
                        self->queue_.pop_front();
                        if (done) done();
                        // The monitor closes the stream once the process has
                        // exited, maybe before our last input: how the process
                        // ended is for the read side to tell, so input not
                        // taken is dropped.
                        if (ec) {
                          for (auto& [frame, d] : self->queue_)
                            if (d) d();
                          self->queue_.clear();
                          self->write_failed_ = true;
                          return;
                        }
                        self->write_next();
                      });
  }

  asio::local::stream_protocol::socket sock_;
  streaming::ProcessIo::Handlers h_;
  protocol::FrameReader reader_;
  std::array<char, 64 * 1024> buf_;
  std::deque<std::pair<std::string, std::function<void()>>> queue_;
  bool reading_ = false, writing_ = false, closed_ = false, exited_ = false, awaiting_ack_ = false;
  bool write_failed_ = false;
};

class MonitorProcessIo : public streaming::ProcessIo {
 public:
  MonitorProcessIo(asio::any_io_executor io, Fd fd) : link_(std::make_shared<MonitorLink>(io, std::move(fd))) {}
  ~MonitorProcessIo() override { link_->close(); }
  void start(Handlers h) override { link_->start(std::move(h)); }
  void ack() override { link_->ack(); }
  void write_stdin(std::string data, std::function<void()> written) override {
    if (data.empty()) {  // an empty frame would close stdin
      if (written) written();
      return;
    }
    // Frames of at most the monitor's limit.
    for (size_t i = 0; i < data.size(); i += protocol::kMaxFrame) {
      const bool last = i + protocol::kMaxFrame >= data.size();
      link_->send(protocol::encode_frame(Channel::stdin, std::string_view(data).substr(i, protocol::kMaxFrame)),
                  last ? std::move(written) : std::function<void()>());
    }
  }
  // An empty stdin frame is the monitor's EOF.
  void close_stdin() override { link_->send(protocol::encode_frame(Channel::stdin, ""), {}); }
  void resize(uint16_t width, uint16_t height) override {
    link_->send(protocol::encode_frame(Channel::resize, protocol::resize_payload(width, height)), {});
  }
  void close() override { link_->close(); }

 private:
  std::shared_ptr<MonitorLink> link_;
};

}  // namespace

std::unique_ptr<streaming::ProcessIo> StreamBackend::exec(const streaming::ExecRequest& r,
                                                          asio::any_io_executor io) {
  auto conn = containers_.open_exec(r.container_id, r.cmd, r.tty, r.stdin);
  return std::make_unique<MonitorProcessIo>(io, std::move(conn.fd));
}

std::unique_ptr<streaming::ProcessIo> StreamBackend::attach(const streaming::AttachRequest& r,
                                                            asio::any_io_executor io) {
  auto conn = containers_.open_attach(r.container_id, r.stdin);
  return std::make_unique<MonitorProcessIo>(io, std::move(conn.fd));
}

Fd StreamBackend::connect(const std::string& pod_id, uint16_t port) {
  const sandbox::Record pod = pods_.get(pod_id);
  if (pod.state != sandbox::State::ready)
    throw FailedPrecondition("pod sandbox " + pod.id + " is not ready; cannot forward port " + std::to_string(port));
  const auto net = pod.namespaces.find("net");
  return sandbox::connect_port(net == pod.namespaces.end() ? "" : net->second, port);
}

}  // namespace crius::server
