// The streaming server over real sockets, with the project's own SPDY and
// WebSocket clients and a fake backend: protocol negotiation, the
// remotecommand and portforward protocols, tokens, limits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "server/streaming/server.h"
#include "tests/support/eventually.h"
#include "tests/support/spdy_client.h"
#include "tests/support/ws_client.h"
#include "tests/unit/server/streaming/fake_backend.h"

namespace crius::streaming {
namespace {

using crius::test::WsClient;
using crius::testing::SpdyClient;
using crius::testing::SpdyClientOptions;
using namespace std::chrono_literals;

// The path of a URL the server handed out.
std::string path_of(const std::string& url) { return url.substr(url.find('/', url.find("://") + 3)); }

struct Fixture : ::testing::Test {
  testing::FakeBackend backend;
  std::unique_ptr<Server> server;
  void SetUp() override { server = std::make_unique<Server>(ServerOptions{}, backend); }
  static ExecRequest exec(std::vector<std::string> cmd, bool in = false, bool tty = false) {
    ExecRequest r;
    r.container_id = "c1";
    r.cmd = std::move(cmd);
    r.tty = tty;
    r.stdin = in;
    r.stdout = true;
    r.stderr = !tty;
    return r;
  }
  static PortForwardRequest forward(std::vector<int32_t> ports = {}) {
    PortForwardRequest r;
    r.pod_id = "p";
    r.ports = std::move(ports);
    return r;
  }
  std::unique_ptr<SpdyClient> spdy(const std::string& url, std::vector<std::string> protos = {"v4.channel.k8s.io"}) {
    return SpdyClient::connect("127.0.0.1", server->port(), path_of(url), std::move(protos));
  }
};

// The streams kubectl's SPDY executor opens for an exec: error first.
struct ExecStreams {
  int error = -1, in = -1, out = -1, err = -1, resize = -1;
};
ExecStreams open_exec_streams(SpdyClient& c, bool in, bool out, bool err, bool resize) {
  ExecStreams s;
  s.error = c.open_stream({{"streamtype", "error"}});
  if (in) s.in = c.open_stream({{"streamtype", "stdin"}});
  if (out) s.out = c.open_stream({{"streamtype", "stdout"}});
  if (err) s.err = c.open_stream({{"streamtype", "stderr"}});
  if (resize) s.resize = c.open_stream({{"streamtype", "resize"}});
  return s;
}

TEST_F(Fixture, SpdyExecV4OutputAndExitCodes) {
  auto c = spdy(server->url(exec({"echo", "hello", "world"})));
  ASSERT_EQ(c->status(), 101);
  EXPECT_EQ(c->response_header("x-stream-protocol-version"), "v4.channel.k8s.io");
  auto s = open_exec_streams(*c, false, true, true, false);
  EXPECT_EQ(c->read_all(s.out), "hello world\n");
  auto status = nlohmann::json::parse(c->read_all(s.error));
  EXPECT_EQ(status["status"], "Success");

  auto c7 = spdy(server->url(exec({"exit", "7"})));
  auto s7 = open_exec_streams(*c7, false, true, true, false);
  auto st7 = nlohmann::json::parse(c7->read_all(s7.error));
  EXPECT_EQ(st7["reason"], "NonZeroExitCode");
  EXPECT_EQ(st7["details"]["causes"][0]["message"], "7");
}

TEST_F(Fixture, SpdyStderrIsItsOwnStream) {
  auto c = spdy(server->url(exec({"err", "oops"})));
  auto s = open_exec_streams(*c, false, true, true, false);
  EXPECT_EQ(c->read_all(s.err), "oops");
  EXPECT_EQ(c->read_all(s.out), "");
}

TEST_F(Fixture, SpdyStdinRoundTripAndEof) {
  auto c = spdy(server->url(exec({"cat"}, true)));
  auto s = open_exec_streams(*c, true, true, true, false);
  ASSERT_TRUE(c->write(s.in, "ping\n"));
  EXPECT_EQ(c->read(s.out).value_or(""), "ping\n");
  c->close_write(s.in);  // EOF: cat ends
  EXPECT_EQ(nlohmann::json::parse(c->read_all(s.error))["status"], "Success");
}

TEST_F(Fixture, SpdyResizeReachesTheProcess) {
  auto c = spdy(server->url(exec({"size"}, true, true)));
  auto s = open_exec_streams(*c, true, true, false, true);
  ASSERT_TRUE(c->write(s.resize, R"({"Width":100,"Height":40})"));
  EXPECT_EQ(c->read(s.out).value_or(""), "100 40\n");
  ASSERT_TRUE(c->write(s.resize, "{\"Width\":81,\"Height\":25}\n{\"Width\":82,"));
  EXPECT_EQ(c->read(s.out).value_or(""), "81 25\n");
  ASSERT_TRUE(c->write(s.resize, "\"Height\":26}"));
  EXPECT_EQ(c->read(s.out).value_or(""), "82 26\n");
  c->close_write(s.in);
  EXPECT_EQ(nlohmann::json::parse(c->read_all(s.error))["status"], "Success");
}

TEST_F(Fixture, SpdyOlderProtocolsReportErrorsAsText) {
  auto c = spdy(server->url(exec({"exit", "3"})), {"v2.channel.k8s.io"});
  ASSERT_EQ(c->status(), 101);
  EXPECT_EQ(c->response_header("x-stream-protocol-version"), "v2.channel.k8s.io");
  auto s = open_exec_streams(*c, false, true, true, false);
  const std::string text = c->read_all(s.error);
  EXPECT_NE(text.find("non-zero exit code"), std::string::npos) << text;
  EXPECT_EQ(text.find('{'), std::string::npos) << "no JSON before v4";
}

TEST_F(Fixture, BackendFailureEndsOnTheErrorStream) {
  auto c = spdy(server->url(exec({"gone"})));
  auto s = open_exec_streams(*c, false, true, true, false);
  auto st = nlohmann::json::parse(c->read_all(s.error));
  EXPECT_EQ(st["status"], "Failure");
  EXPECT_NE(st["message"].get<std::string>().find("not found"), std::string::npos);
}

TEST_F(Fixture, NegotiationRefusals) {
  auto none = spdy(server->url(exec({"echo"})), {"v9.channel.k8s.io"});
  EXPECT_EQ(none->status(), 403);
  EXPECT_EQ(none->response_header("x-accepted-stream-protocol-versions"), "v4.channel.k8s.io");
  auto missing = spdy(server->url(exec({"echo"})), {});
  EXPECT_EQ(missing->status(), 400);
}

TEST_F(Fixture, TokensAreSingleUseAndUnknownOnes404) {
  const std::string url = server->url(exec({"echo", "once"}));
  auto c = spdy(url);
  ASSERT_EQ(c->status(), 101);
  auto again = spdy(url);
  EXPECT_EQ(again->status(), 404);
  auto unknown = SpdyClient::connect("127.0.0.1", server->port(), "/exec/0123456789abcdef0123456789abcdef",
                                     {"v4.channel.k8s.io"});
  EXPECT_EQ(unknown->status(), 404);
  std::string other = path_of(server->url(exec({"echo"})));
  other.replace(0, 6, "/attach/");
  auto wrong_kind = SpdyClient::connect("127.0.0.1", server->port(), other, {"v4.channel.k8s.io"});
  EXPECT_EQ(wrong_kind->status(), 404);
}

TEST_F(Fixture, AnUnusedTokenExpires) {
  server.reset();
  ServerOptions o;
  o.token_ttl = 200ms;
  server = std::make_unique<Server>(o, backend);
  const std::string url = server->url(exec({"echo"}));
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(spdy(url)->status(), 404);
}

TEST_F(Fixture, SessionsPastTheCapAre429) {
  server.reset();
  ServerOptions o;
  o.max_sessions = 2;
  server = std::make_unique<Server>(o, backend);
  auto a = spdy(server->url(exec({"hang"})));
  auto b = spdy(server->url(exec({"hang"})));
  ASSERT_EQ(a->status(), 101);
  ASSERT_EQ(b->status(), 101);
  auto c = spdy(server->url(exec({"hang"})));
  EXPECT_EQ(c->status(), 429);
  a->disconnect();
  ASSERT_TRUE(crius::testing::eventually([&] { return server->sessions() < 2; }));
  auto d = spdy(server->url(exec({"hang"})));
  EXPECT_EQ(d->status(), 101);
}

TEST_F(Fixture, AClientThatVanishesHangsUpTheProcess) {
  auto c = spdy(server->url(exec({"hang"}, true)));
  auto s = open_exec_streams(*c, true, true, true, false);
  (void)s;
  ASSERT_TRUE(crius::testing::eventually([&] { return backend.started.load() == 1; }));
  c->disconnect();
  ASSERT_TRUE(crius::testing::eventually([&] { return backend.hung_up.load() == 1 && backend.alive.load() == 0; }));
  EXPECT_TRUE(crius::testing::eventually([&] { return server->sessions() == 0; }));
}

TEST_F(Fixture, LargeOutputArrivesWhole) {
  auto c = spdy(server->url(exec({"flood", "3000000"})));
  auto s = open_exec_streams(*c, false, true, true, false);
  EXPECT_EQ(c->read_all(s.out, 30s).size(), 3000000u);
  EXPECT_EQ(nlohmann::json::parse(c->read_all(s.error))["status"], "Success");
}

// --- WebSocket -------------------------------------------------------------------------------

TEST_F(Fixture, WebSocketV5ExecWithStdinCloseAndStatus) {
  auto ws = WsClient::connect(server->url(exec({"cat"}, true)), {"v5.channel.k8s.io", "v4.channel.k8s.io"});
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->protocol(), "v5.channel.k8s.io");
  EXPECT_EQ(ws->read().value_or("?"), std::string("\x01", 1)) << "the empty hello on stdout";
  ASSERT_TRUE(ws->send(crius::test::channel_message(0, "abc")));
  EXPECT_EQ(ws->read().value_or(""), std::string("\x01" "abc", 4));
  ASSERT_TRUE(ws->send(std::string("\xff\x00", 2)));  // v5: close stdin
  auto status = ws->read();
  ASSERT_TRUE(status);
  ASSERT_EQ((*status)[0], 3);
  EXPECT_EQ(nlohmann::json::parse(status->substr(1))["status"], "Success");
  EXPECT_FALSE(ws->read(5s)) << "the server closes after the status";
  EXPECT_TRUE(ws->closed());
}

TEST_F(Fixture, WebSocketV4ExitCodeAndBase64) {
  auto ws = WsClient::connect(server->url(exec({"exit", "7"})), {"v4.channel.k8s.io"});
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->read().value_or("?"), std::string("\x01", 1));
  auto status = ws->read();
  ASSERT_TRUE(status);
  auto j = nlohmann::json::parse(status->substr(1));
  EXPECT_EQ(j["details"]["causes"][0]["message"], "7");

  auto b64 = WsClient::connect(server->url(exec({"echo", "hi"})), {"base64.channel.k8s.io"});
  ASSERT_TRUE(b64);
  EXPECT_EQ(b64->protocol(), "base64.channel.k8s.io");
  EXPECT_EQ(b64->read().value_or("?"), "1");
  EXPECT_EQ(b64->read().value_or("?"), "1aGkK");  // "hi\n"
}

// The status line a raw HTTP request gets.
std::string raw_status(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) got.assign(buf, n);
  }
  ::close(fd);
  return got.substr(0, got.find("\r\n"));
}

TEST_F(Fixture, WebSocketUnknownProtocolIsRefused) {
  EXPECT_FALSE(WsClient::connect(server->url(exec({"echo"})), {"v9.channel.k8s.io"}));
  const std::string path = path_of(server->url(exec({"echo"})));
  EXPECT_EQ(raw_status(server->port(), "GET " + path +
                                           " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                           "Sec-WebSocket-Protocol: v9.channel.k8s.io\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
}

// --- Port forward ----------------------------------------------------------------------------

// A TCP socket bound to a free loopback port; *port gets the port.
int bound_loopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// A loopback echo server for `n` connections, on its own thread.
struct EchoServer {
  int fd = -1;
  uint16_t port = 0;
  std::thread t;
  explicit EchoServer(int n) {
    fd = bound_loopback(&port);
    ::listen(fd, 16);
    t = std::thread([this, n] {
      std::vector<std::thread> conns;
      for (int i = 0; i < n; ++i) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) break;
        conns.emplace_back([c] {
          char buf[4096];
          for (;;) {
            ssize_t r = ::read(c, buf, sizeof buf);
            if (r <= 0) break;
            (void)!::write(c, buf, r);
          }
          ::close(c);
        });
      }
      for (auto& c : conns) c.join();
    });
  }
  ~EchoServer() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    t.join();
  }
};

// A port nothing listens on.
uint16_t closed_port() {
  uint16_t port = 0;
  ::close(bound_loopback(&port));
  return port;
}

TEST_F(Fixture, SpdyPortForwardManyConnectionsAndAClosedPort) {
  EchoServer echo(3);
  auto c = spdy(server->url(forward()), {"portforward.k8s.io"});
  ASSERT_EQ(c->status(), 101);
  const std::string port = std::to_string(echo.port);
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < 3; ++i) {
    const std::string rid = std::to_string(i);
    int e = c->open_stream({{"streamtype", "error"}, {"port", port}, {"requestid", rid}});
    int d = c->open_stream({{"streamtype", "data"}, {"port", port}, {"requestid", rid}});
    pairs.emplace_back(d, e);
  }
  const std::string bad = std::to_string(closed_port());
  int be = c->open_stream({{"streamtype", "error"}, {"port", bad}, {"requestid", "9"}});
  int bd = c->open_stream({{"streamtype", "data"}, {"port", bad}, {"requestid", "9"}});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->write(pairs[i].first, "hello " + std::to_string(i)));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c->read(pairs[i].first).value_or(""), "hello " + std::to_string(i));
  const std::string err = c->read_all(be);
  EXPECT_NE(err.find("error forwarding port " + bad), std::string::npos) << err;
  EXPECT_TRUE(c->wait_ended(bd));
  // The others still work after the failed one.
  ASSERT_TRUE(c->write(pairs[2].first, "still"));
  EXPECT_EQ(c->read(pairs[2].first).value_or(""), "still");
  // The client's FIN reaches the pod; the pod's answer ends the stream.
  c->close_write(pairs[0].first);
  EXPECT_EQ(c->read_all(pairs[0].first), "");
  EXPECT_EQ(c->read_all(pairs[0].second), "");
}

TEST_F(Fixture, WebSocketPortForwardChannels) {
  EchoServer echo(1);
  auto ws = WsClient::connect(
      server->url(forward({echo.port, closed_port()})), {"v4.channel.k8s.io"});
  ASSERT_TRUE(ws);
  const std::string le{static_cast<char>(echo.port & 0xff), static_cast<char>(echo.port >> 8)};
  std::map<int, std::vector<std::string>> got;
  for (int i = 0; i < 5; ++i) {
    auto m = ws->read();
    ASSERT_TRUE(m);
    got[(*m)[0]].push_back(m->substr(1));
  }
  EXPECT_EQ(got[0].at(0), le);
  EXPECT_EQ(got[1].at(0), le);
  EXPECT_EQ(got[2].size(), 1u);
  ASSERT_EQ(got[3].size(), 2u) << "the closed port's error";
  EXPECT_NE(got[3][1].find("error forwarding port"), std::string::npos);
  ASSERT_TRUE(ws->send(crius::test::channel_message(0, "echo me")));
  auto m = ws->read();
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, crius::test::channel_message(0, "echo me"));
}

// kubectl 1.31+: SPDY inside a WebSocket ("SPDY/3.1+portforward.k8s.io").
// The test bridges its SPDY client to the WebSocket through a socketpair.
TEST_F(Fixture, PortForwardThroughTheSpdyOverWebSocketTunnel) {
  EchoServer echo(1);
  auto ws = WsClient::connect(server->url(forward()), {"SPDY/3.1+portforward.k8s.io"});
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->protocol(), "SPDY/3.1+portforward.k8s.io");
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  std::atomic<bool> stop{false};
  std::thread up([&] {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(sv[1], buf, sizeof buf);
      if (n <= 0 || !ws->send(std::string(buf, n))) break;
    }
  });
  std::thread down([&] {
    while (!stop) {
      auto m = ws->read(200ms);
      if (m && ::send(sv[1], m->data(), m->size(), MSG_NOSIGNAL) < 0) break;
      if (!m && ws->closed()) break;
    }
  });
  {
    auto c = SpdyClient::over_fd(sv[0]);
    const std::string port = std::to_string(echo.port);
    int e = c->open_stream({{"streamtype", "error"}, {"port", port}, {"requestid", "0"}});
    int d = c->open_stream({{"streamtype", "data"}, {"port", port}, {"requestid", "0"}});
    ASSERT_GT(e, 0);
    ASSERT_TRUE(c->write(d, "through the tunnel"));
    EXPECT_EQ(c->read(d).value_or(""), "through the tunnel");
    c->close_write(d);
    EXPECT_EQ(c->read_all(d), "");
    c->disconnect();
  }
  stop = true;
  ::shutdown(sv[1], SHUT_RDWR);
  ws->abort();
  up.join();
  down.join();
  ::close(sv[1]);
}

}  // namespace
}  // namespace crius::streaming
