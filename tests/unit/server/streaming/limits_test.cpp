// The streaming server against clients that misbehave (garbage, frames
// claiming gigabytes, silence) and with its optional settings (TLS, idle
// timeout): every such connection ends and leaves no session behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdlib>
#include <filesystem>

#include "server/streaming/server.h"
#include "tests/support/eventually.h"
#include "tests/support/spdy_client.h"
#include "tests/unit/server/streaming/fake_backend.h"

namespace crius::streaming {
namespace {

using crius::testing::SpdyClient;
using namespace std::chrono_literals;

std::string path_of(const std::string& url) { return url.substr(url.find('/', url.find("://") + 3)); }

ExecRequest hang() {
  ExecRequest r;
  r.container_id = "c";
  r.cmd = {"hang"};
  r.stdout = true;
  return r;
}

// A raw TCP connection to the server, with a read timeout.
struct Raw {
  int fd = -1;
  explicit Raw(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Raw() { ::close(fd); }
  void send(const std::string& s) { (void)!::write(fd, s.data(), s.size()); }
  // Everything until EOF (or the timeout); *eof tells which.
  std::string drain(bool* eof) {
    std::string all;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        all.append(buf, n);
        continue;
      }
      *eof = n == 0 || errno == ECONNRESET;
      return all;
    }
  }
};

std::string spdy_upgrade(const std::string& path) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
         "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n";
}

struct Limits : ::testing::Test {
  testing::FakeBackend backend;
};

TEST_F(Limits, GarbageAfterTheSpdyUpgradeEndsTheSession) {
  Server s(ServerOptions{}, backend);
  Raw r(s.port());
  r.send(spdy_upgrade(path_of(s.url(hang()))));
  r.send(std::string(4096, '\x5a'));
  bool eof = false;
  const std::string got = r.drain(&eof);
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0u);
  EXPECT_TRUE(eof) << "the server closes a connection that speaks garbage";
  EXPECT_TRUE(crius::testing::eventually([&] { return s.sessions() == 0; }));
}

TEST_F(Limits, ASpdyFrameClaimingGigabytesIsRefusedAtItsHeader) {
  Server s(ServerOptions{}, backend);
  Raw r(s.port());
  r.send(spdy_upgrade(path_of(s.url(hang()))));
  // A DATA frame for stream 1 whose 24-bit length is the largest there is,
  // then a SYN_STREAM claiming a header block far past any limit.
  r.send(std::string("\x00\x00\x00\x01\x00\xff\xff\xff", 8));
  bool eof = false;
  r.drain(&eof);
  EXPECT_TRUE(eof);
  Raw r2(s.port());
  r2.send(spdy_upgrade(path_of(s.url(hang()))));
  r2.send(std::string("\x80\x03\x00\x01\x01\xff\xff\xff", 8) + std::string(64 * 1024, '\0'));
  r2.drain(&eof);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(crius::testing::eventually([&] { return s.sessions() == 0; }));
}

TEST_F(Limits, AWebSocketFrameClaiming4GiBIsRefused) {
  Server s(ServerOptions{}, backend);
  Raw r(s.port());
  r.send("GET " + path_of(s.url(hang())) +
         " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n");
  // A masked binary frame announcing 4 GiB with the 64-bit length form.
  r.send(std::string("\x82\xff\x00\x00\x00\x01\x00\x00\x00\x00\x11\x22\x33\x44", 14) + std::string(8192, 'a'));
  bool eof = false;
  const std::string got = r.drain(&eof);
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
  EXPECT_TRUE(eof);
  EXPECT_TRUE(crius::testing::eventually([&] { return s.sessions() == 0; }));
}

TEST_F(Limits, ARequestThatNeverEndsIsDropped) {
  Server s(ServerOptions{}, backend);
  Raw r(s.port());
  r.send("GET /exec/x HTTP/1.1\r\n" + std::string(32 * 1024, 'h'));
  bool eof = false;
  r.drain(&eof);
  EXPECT_TRUE(eof) << "a header past the limit ends the connection";
}

TEST_F(Limits, IdleSessionsAreClosed) {
  ServerOptions o;
  o.idle_timeout = 1s;
  Server s(o, backend);
  auto c = SpdyClient::connect("127.0.0.1", s.port(), path_of(s.url(hang())), {"v4.channel.k8s.io"});
  ASSERT_EQ(c->status(), 101);
  c->open_stream({{"streamtype", "error"}});
  c->open_stream({{"streamtype", "stdout"}});
  EXPECT_TRUE(c->wait_closed(10s)) << "a silent session ends after the idle timeout";
  EXPECT_TRUE(crius::testing::eventually([&] { return s.sessions() == 0 && backend.hung_up.load() == 1; }));
}

TEST_F(Limits, TlsServesHttpsUrls) {
  const auto dir = std::filesystem::temp_directory_path() / ("crius-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = dir / "cert.pem", key = dir / "key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + key +
                          " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions o;
  o.tls_cert = cert;
  o.tls_key = key;
  Server s(o, backend);
  const std::string url = s.url(hang());
  EXPECT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;

  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.load_verify_file(cert);
  asio::ssl::stream<asio::ip::tcp::socket> tls(io, ctx);
  tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), s.port()});
  tls.handshake(asio::ssl::stream_base::client);
  const std::string req = spdy_upgrade(path_of(url));
  asio::write(tls, asio::buffer(req));
  char buf[256];
  const size_t n = tls.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n).rfind("HTTP/1.1 101", 0), 0u);
  // A plain-text client gets nothing it can use.
  Raw plain(s.port());
  plain.send(spdy_upgrade("/exec/whatever"));
  bool eof = false;
  EXPECT_EQ(plain.drain(&eof).find("HTTP/1.1"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crius::streaming
