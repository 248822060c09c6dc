#include "tests/support/ws_client.h"

#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace crius::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buf;
  std::string protocol;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;
  bool closed = false;

  void read_loop() {
    ws.async_read(buf, [this](beast::error_code ec, size_t) {
      std::lock_guard lock(mu);
      if (ec) {
        closed = true;
        cv.notify_all();
        return;
      }
      inbox.push_back(beast::buffers_to_string(buf.data()));
      buf.consume(buf.size());
      cv.notify_all();
      read_loop();
    });
  }

  ~Impl() {
    asio::post(ioc, [this] {
      beast::error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);
    });
    if (thread.joinable()) thread.join();
  }
};

std::unique_ptr<WsClient> WsClient::connect(const std::string& url, const std::vector<std::string>& protocols) {
  // http://host:port/path
  const auto scheme_end = url.find("://");
  const auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto path_start = url.find('/', host_start);
  const std::string host_port = url.substr(host_start, path_start - host_start);
  const std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  const auto colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port = host_port.substr(colon + 1);

  auto impl = std::make_unique<Impl>();
  try {
    tcp::resolver resolver(impl->ioc);
    auto& lowest = beast::get_lowest_layer(impl->ws);
    lowest.expires_after(std::chrono::seconds(10));
    lowest.connect(resolver.resolve(host, port));
    std::string offered;
    for (const auto& p : protocols) offered += (offered.empty() ? "" : ", ") + p;
    impl->ws.set_option(websocket::stream_base::decorator([offered](websocket::request_type& req) {
      if (!offered.empty()) req.set(http::field::sec_websocket_protocol, offered);
    }));
    websocket::response_type res;
    beast::error_code ec;
    impl->ws.handshake(res, host_port, target, ec);
    if (ec) return nullptr;
    lowest.expires_never();
    impl->protocol = std::string(res[http::field::sec_websocket_protocol]);
  } catch (const std::exception&) {
    return nullptr;
  }
  Impl* raw = impl.get();
  raw->read_loop();
  raw->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() = default;

const std::string& WsClient::protocol() const { return impl_->protocol; }

bool WsClient::send(const std::string& message, bool binary) {
  std::promise<bool> done;
  asio::post(impl_->ioc, [this, &message, binary, &done] {
    impl_->ws.binary(binary);
    impl_->ws.async_write(asio::buffer(message),
                          [&done](beast::error_code ec, size_t) { done.set_value(!ec); });
  });
  auto f = done.get_future();
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return false;
  return f.get();
}

std::optional<std::string> WsClient::read(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [this] { return !impl_->inbox.empty() || impl_->closed; });
  if (impl_->inbox.empty()) return std::nullopt;
  std::string m = std::move(impl_->inbox.front());
  impl_->inbox.pop_front();
  return m;
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed && impl_->inbox.empty();
}

void WsClient::close() {
  std::promise<void> done;
  asio::post(impl_->ioc, [this, &done] {
    impl_->ws.async_close(websocket::close_code::normal, [&done](beast::error_code) { done.set_value(); });
  });
  done.get_future().wait_for(std::chrono::seconds(10));
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::seconds(5), [this] { return impl_->closed; });
}

void WsClient::abort() {
  std::promise<void> done;
  asio::post(impl_->ioc, [this, &done] {
    beast::error_code ignored;
    beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(impl_->ws).socket().close(ignored);
    done.set_value();
  });
  done.get_future().wait_for(std::chrono::seconds(5));
}

std::string channel_message(unsigned char channel, const std::string& data) {
  return std::string(1, static_cast<char>(channel)) + data;
}

}  // namespace crius::test
