// The SPDY session over loopback TCP, driven by the blocking test client:
// the server side runs on one io_context thread, as in the daemon.
#include "server/streaming/spdy/session.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <future>

#include "tests/support/eventually.h"
#include "tests/support/spdy_client.h"

namespace crius::streaming::spdy {
namespace {

using boost::asio::ip::tcp;
using testing::SpdyClient;
using testing::SpdyClientOptions;
using namespace std::chrono_literals;

class TcpTransport : public Transport {
 public:
  explicit TcpTransport(tcp::socket s) : s_(std::move(s)) {
    boost::system::error_code ec;
    s_.set_option(tcp::no_delay(true), ec);  // as the daemon's transport should
  }
  void async_read_some(boost::asio::mutable_buffer buf, IoHandler done) override {
    s_.async_read_some(buf, std::move(done));
  }
  void async_write(boost::asio::const_buffer buf, IoHandler done) override {
    boost::asio::async_write(s_, buf, std::move(done));
  }
  void close() override {
    boost::system::error_code ec;
    s_.shutdown(tcp::socket::shutdown_both, ec);
    s_.close(ec);
  }
  boost::asio::any_io_executor executor() override { return s_.get_executor(); }

 private:
  tcp::socket s_;
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

class SpdySession : public ::testing::Test {
 protected:
  void SetUp() override {
    work_.emplace(io_.get_executor());
    acceptor_.emplace(io_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    port_ = acceptor_->local_endpoint().port();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    client_.reset();
    bool done = testing::eventually([&] { return closed() || !started(); }, 5s);
    run([&] {
      acceptor_.reset();
      if (session_) session_->close();
    });
    if (!done) io_.stop();
    work_.reset();
    auto finished = std::async(std::launch::async, [&] { thread_.join(); });
    if (finished.wait_for(5s) != std::future_status::ready) {
      io_.stop();
      finished.wait();
    }
    session_.reset();
  }

  // Runs f on the io thread and waits for it.
  template <typename F>
  void run(F f) {
    std::promise<void> p;
    boost::asio::post(io_, [&] {
      f();
      p.set_value();
    });
    p.get_future().wait();
  }

  // Accepts one connection, answers the upgrade with 101 and starts a
  // session over it with whatever bytes came after the request.
  void accept() {
    auto sock = std::make_shared<tcp::socket>(io_);
    acceptor_->async_accept(*sock, [this, sock](boost::system::error_code ec) {
      if (ec) return;
      auto buf = std::make_shared<boost::asio::streambuf>();
      boost::asio::async_read_until(*sock, *buf, "\r\n\r\n", [this, sock, buf](boost::system::error_code ec,
                                                                                std::size_t n) {
        if (ec) return;
        std::string all(boost::asio::buffers_begin(buf->data()), boost::asio::buffers_end(buf->data()));
        {
          std::lock_guard lock(mu_);
          request_ = all.substr(0, n);
        }
        auto rest = std::make_shared<std::string>(all.substr(n));
        auto answer = std::make_shared<std::string>(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
            "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n");
        boost::asio::async_write(*sock, boost::asio::buffer(*answer),
                                 [this, sock, answer, rest](boost::system::error_code ec, std::size_t) {
                                   if (!ec) start_session(std::move(*sock), std::move(*rest));
                                 });
      });
    });
  }

  void start_session(tcp::socket s, std::string rest) {
    session_ = Session::make(std::make_unique<TcpTransport>(std::move(s)), std::move(rest), limits_);
    session_->on_stream = [this](std::shared_ptr<Stream> st) {
      {
        std::lock_guard lock(mu_);
        streams_[st->id()] = st;
        stream_types_.push_back(st->header("streamtype"));
      }
      if (handler_) handler_(st);
    };
    session_->on_closed = [this](const std::string& why) {
      std::lock_guard lock(mu_);
      ++closed_count_;
      closed_why_ = why;
    };
    session_->start();
    std::lock_guard lock(mu_);
    started_ = true;
  }

  std::unique_ptr<SpdyClient>& connect(SpdyClientOptions o = {}) {
    accept();
    client_ = SpdyClient::connect("127.0.0.1", port_, "/exec/token", {"v4.channel.k8s.io", "v3.channel.k8s.io"}, o);
    EXPECT_EQ(client_->status(), 101);
    EXPECT_TRUE(testing::eventually([&] { return started(); }));
    return client_;
  }

  bool started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  bool closed() {
    std::lock_guard lock(mu_);
    return closed_count_ > 0;
  }
  std::string closed_why() {
    std::lock_guard lock(mu_);
    return closed_why_;
  }
  std::size_t stream_count() {
    std::size_t n = 0;
    run([&] { n = session_ ? session_->stream_count() : 0; });
    return n;
  }
  std::shared_ptr<Stream> server_stream(uint32_t id) {
    std::lock_guard lock(mu_);
    return streams_.count(id) ? streams_[id] : nullptr;
  }

  static void echo(const std::shared_ptr<Stream>& st) {
    st->on_data = [st](std::string_view d) {
      st->write(std::string(d));
      st->consumed(d.size());
    };
    st->on_remote_fin = [st] { st->close_write(); };
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  Limits limits_;
  std::function<void(std::shared_ptr<Stream>)> handler_;
  std::shared_ptr<Session> session_;  // io thread only
  std::unique_ptr<SpdyClient> client_;

  std::mutex mu_;
  std::string request_;
  bool started_ = false;
  int closed_count_ = 0;
  std::string closed_why_;
  std::map<uint32_t, std::shared_ptr<Stream>> streams_;
  std::vector<std::string> stream_types_;
};

TEST_F(SpdySession, UpgradeRequestAsksForSpdyWithEveryProtocol) {
  connect();
  std::lock_guard lock(mu_);
  EXPECT_NE(request_.find("GET /exec/token HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(request_.find("Connection: Upgrade\r\n"), std::string::npos);
  EXPECT_NE(request_.find("Upgrade: SPDY/3.1\r\n"), std::string::npos);
  EXPECT_NE(request_.find("X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"), std::string::npos);
  EXPECT_NE(request_.find("X-Stream-Protocol-Version: v3.channel.k8s.io\r\n"), std::string::npos);
  EXPECT_EQ(client_->response_header("x-stream-protocol-version"), "v4.channel.k8s.io");
}

TEST_F(SpdySession, StreamsOpenWithReplyAndCarryTheirHeaders) {
  handler_ = echo;
  auto& c = connect();
  int err = c->open_stream({{"streamtype", "error"}, {"requestid", "0"}});
  int out = c->open_stream({{"streamtype", "stdout"}, {"requestid", "0"}});
  EXPECT_EQ(err, 1);
  EXPECT_EQ(out, 3);
  EXPECT_TRUE(c->state(err).replied);
  EXPECT_TRUE(c->state(out).replied);
  std::lock_guard lock(mu_);
  EXPECT_EQ(stream_types_, (std::vector<std::string>{"error", "stdout"}));
  EXPECT_EQ(streams_[3]->header("requestid"), "0");
}

TEST_F(SpdySession, DataBothWaysThenFinClosesTheStream) {
  handler_ = echo;
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdin"}});
  ASSERT_TRUE(c->write(id, "hello"));
  EXPECT_EQ(c->read(id), "hello");
  ASSERT_TRUE(c->write(id, " world"));
  EXPECT_EQ(c->read(id), " world");
  c->close_write(id);
  EXPECT_EQ(c->read_all(id), "");
  EXPECT_TRUE(c->state(id).remote_fin);
  EXPECT_FALSE(c->state(id).reset);
  EXPECT_TRUE(testing::eventually([&] { return stream_count() == 0; }));
}

TEST_F(SpdySession, HalfCloseKeepsTheOtherDirectionOpen) {
  handler_ = [](std::shared_ptr<Stream> st) {
    st->on_data = [st](std::string_view d) { st->consumed(d.size()); };
    st->on_remote_fin = [st] {
      // The client is done sending; we still answer.
      st->write("after your fin");
      st->close_write();
    };
  };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdin"}});
  c->close_write(id);
  EXPECT_EQ(c->read_all(id), "after your fin");
  EXPECT_TRUE(c->state(id).remote_fin);
}

TEST_F(SpdySession, ServerFinFirstThenClientData) {
  std::atomic<int> got{0};
  handler_ = [&](std::shared_ptr<Stream> st) {
    st->write("bye");
    st->close_write();
    st->on_data = [st, &got](std::string_view d) {
      got += static_cast<int>(d.size());
      st->consumed(d.size());
    };
  };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdout"}});
  EXPECT_EQ(c->read_all(id), "bye");
  ASSERT_TRUE(c->write(id, "12345"));
  EXPECT_TRUE(testing::eventually([&] { return got == 5; }));
  c->close_write(id);
  EXPECT_TRUE(testing::eventually([&] { return stream_count() == 0; }));
}

TEST_F(SpdySession, ClientResetReachesTheServer) {
  std::atomic<bool> reset{false};
  handler_ = [&](std::shared_ptr<Stream> st) { st->on_reset = [&] { reset = true; }; };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdin"}});
  c->reset(id);
  EXPECT_TRUE(testing::eventually([&] { return reset.load(); }));
  EXPECT_EQ(stream_count(), 0u);
  // Data the client still had in flight is dropped quietly.
  c->send_raw(encode_data(static_cast<uint32_t>(id), "late"));
  EXPECT_TRUE(c->ping());
  EXPECT_FALSE(c->goaway_status().has_value());
}

TEST_F(SpdySession, ServerResetReachesTheClient) {
  handler_ = [](std::shared_ptr<Stream> st) { st->on_data = [st](std::string_view) { st->reset(); }; };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdin"}});
  c->write(id, "x");
  ASSERT_TRUE(c->wait_ended(id));
  EXPECT_TRUE(c->state(id).reset);
  EXPECT_EQ(c->state(id).rst_status, kCancel);
  EXPECT_TRUE(testing::eventually([&] { return stream_count() == 0; }));
}

TEST_F(SpdySession, PingIsEchoed) {
  auto& c = connect();
  EXPECT_TRUE(c->ping());
  EXPECT_TRUE(c->ping());
}

TEST_F(SpdySession, ClientOverrunningTheWindowIsReset) {
  // The consumer takes nothing, so no window comes back.
  handler_ = [](std::shared_ptr<Stream> st) { st->on_data = [](std::string_view) {}; };
  auto& c = connect();  // announces SETTINGS: a flow-controlling peer
  int id = c->open_stream({{"streamtype", "stdin"}});
  std::string chunk(16 * 1024, 'x');
  for (int i = 0; i < 6; ++i) c->send_raw(encode_data(static_cast<uint32_t>(id), chunk));
  ASSERT_TRUE(c->wait_ended(id));
  EXPECT_EQ(c->state(id).rst_status, kFlowControlError);
  EXPECT_TRUE(c->ping());  // the session lives on
}

TEST_F(SpdySession, SlowReaderGetsAMegabyteInOrderWithinItsWindow) {
  const std::string data = pattern(1 << 20);
  handler_ = [&](std::shared_ptr<Stream> st) {
    st->write(data);
    st->close_write();
  };
  SpdyClientOptions o;
  o.window = 16 * 1024;  // via SETTINGS_INITIAL_WINDOW_SIZE
  auto& c = connect(o);
  int id = c->open_stream({{"streamtype", "stdout"}});
  std::string got;
  int n = 0;
  while (auto chunk = c->read(id)) {
    got += *chunk;
    if (++n % 4 == 0) std::this_thread::sleep_for(2ms);
  }
  EXPECT_TRUE(c->state(id).remote_fin);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  EXPECT_LE(c->state(id).max_unread, 16u * 1024);
}

// moby/spdystream (kubectl) neither sends WINDOW_UPDATE nor reads ours:
// the session must not stall after 64 KiB, nor reset a client that sends
// more than the window while our consumer is slow.
TEST_F(SpdySession, ClientWithoutFlowControlLikeSpdystream) {
  const std::string down = pattern(1 << 20);
  const std::size_t up_size = 512 * 1024;
  std::atomic<std::size_t> received{0};
  std::atomic<bool> consume{false};
  std::shared_ptr<Stream> in;
  handler_ = [&](std::shared_ptr<Stream> st) {
    if (st->header("streamtype") == "stdout") {
      st->write(down);
      st->close_write();
      return;
    }
    in = st;
    st->on_data = [&, st](std::string_view d) {
      received += d.size();
      if (consume) st->consumed(d.size());
    };
  };
  SpdyClientOptions o;
  o.flow_control = false;
  auto& c = connect(o);
  int out = c->open_stream({{"streamtype", "stdout"}});
  EXPECT_EQ(c->read_all(out).size(), down.size());
  EXPECT_TRUE(c->state(out).remote_fin);

  int id = c->open_stream({{"streamtype", "stdin"}});
  auto writer = std::async(std::launch::async, [&] { return c->write(id, pattern(up_size), 20s); });
  EXPECT_TRUE(testing::eventually([&] { return received >= 64u * 1024; }));
  std::this_thread::sleep_for(100ms);
  // Reading paused: the consumer holds about one window, plus a frame.
  EXPECT_LE(received.load(), 64u * 1024 + 16 * 1024);
  run([&] {
    consume = true;
    in->consumed(received);
  });
  EXPECT_TRUE(writer.get());
  EXPECT_TRUE(testing::eventually([&] { return received == up_size; }));
  EXPECT_FALSE(c->state(id).reset);
}

TEST_F(SpdySession, SentCallbackWaitsForTheWindow) {
  std::atomic<int> sent{-1};
  handler_ = [&](std::shared_ptr<Stream> st) {
    st->write(pattern(256 * 1024), [&](bool ok) { sent = ok ? 1 : 0; });
  };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdout"}});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sent.load(), -1);  // 64 KiB window, nobody reading
  std::size_t got = 0;
  while (got < 256 * 1024) {
    auto chunk = c->read(id);
    ASSERT_TRUE(chunk);
    got += chunk->size();
  }
  EXPECT_TRUE(testing::eventually([&] { return sent == 1; }));
}

TEST_F(SpdySession, ProducerIgnoringBackpressureLosesTheStream) {
  limits_.max_buffered_per_stream = 100 * 1024;
  std::atomic<bool> reset{false};
  std::atomic<int> sent{-1};
  handler_ = [&](std::shared_ptr<Stream> st) {
    st->on_reset = [&] { reset = true; };
    st->write(pattern(200 * 1024), [&](bool ok) { sent = ok ? 1 : 0; });
  };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdout"}});
  ASSERT_TRUE(c->wait_ended(id));
  EXPECT_EQ(c->state(id).rst_status, kInternalError);
  EXPECT_TRUE(testing::eventually([&] { return reset && sent == 0; }));
}

TEST_F(SpdySession, StreamsPastTheLimitAreRefused) {
  limits_.max_streams = 2;
  handler_ = [](std::shared_ptr<Stream>) {};
  auto& c = connect();
  int a = c->open_stream({{"streamtype", "a"}});
  int b = c->open_stream({{"streamtype", "b"}});
  int x = c->open_stream({{"streamtype", "x"}});
  EXPECT_TRUE(c->state(a).replied);
  EXPECT_TRUE(c->state(b).replied);
  EXPECT_FALSE(c->state(x).replied);
  EXPECT_TRUE(c->state(x).reset);
  EXPECT_EQ(c->state(x).rst_status, kRefusedStream);
  // Once one ends, there is room again.
  c->reset(a);
  EXPECT_TRUE(testing::eventually([&] { return stream_count() == 1; }));
  int y = c->open_stream({{"streamtype", "y"}});
  EXPECT_TRUE(c->state(y).replied);
}

TEST_F(SpdySession, StreamIdsThatDoNotRiseEndTheSession) {
  handler_ = [](std::shared_ptr<Stream>) {};
  auto& c = connect();
  c->send_syn_stream(5, {{"streamtype", "a"}});
  c->send_syn_stream(3, {{"streamtype", "b"}});
  ASSERT_TRUE(c->wait_closed());
  EXPECT_EQ(c->goaway_status(), std::optional<uint32_t>(kGoAwayProtocolError));
  EXPECT_TRUE(testing::eventually([&] { return closed(); }));
  EXPECT_NE(closed_why().find("must be odd and rise"), std::string::npos) << closed_why();
}

TEST_F(SpdySession, EvenStreamIdFromTheClientEndsTheSession) {
  auto& c = connect();
  c->send_syn_stream(2, {{"streamtype", "a"}});
  ASSERT_TRUE(c->wait_closed());
  EXPECT_EQ(c->goaway_status(), std::optional<uint32_t>(kGoAwayProtocolError));
}

TEST_F(SpdySession, GarbageEndsTheSessionWithProtocolError) {
  auto& c = connect();
  c->send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c->wait_closed());
  EXPECT_EQ(c->goaway_status(), std::optional<uint32_t>(kGoAwayProtocolError));
  EXPECT_TRUE(testing::eventually([&] { return closed(); }));
}

TEST_F(SpdySession, BadHeaderBlockEndsTheSession) {
  std::atomic<bool> reset{false};
  handler_ = [&](std::shared_ptr<Stream> st) { st->on_reset = [&] { reset = true; }; };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "a"}});
  ASSERT_TRUE(c->state(id).replied);
  c->send_raw(encode_syn_stream(3, 0, 0, 0, "definitely not zlib"));
  ASSERT_TRUE(c->wait_closed());
  EXPECT_EQ(c->goaway_status(), std::optional<uint32_t>(kGoAwayProtocolError));
  EXPECT_TRUE(testing::eventually([&] { return reset.load() && closed(); }));
}

TEST_F(SpdySession, DataForAStreamThatNeverExistedIsRefused) {
  auto& c = connect();
  c->send_raw(encode_data(99, "x"));
  ASSERT_TRUE(c->wait_ended(99));
  EXPECT_EQ(c->state(99).rst_status, kInvalidStream);
  EXPECT_TRUE(c->ping());
}

TEST_F(SpdySession, CloseSendsGoAwayAfterQueuedData) {
  handler_ = [](std::shared_ptr<Stream> st) { st->write("last words"); };
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdout"}});
  EXPECT_EQ(c->read(id), "last words");
  run([&] { session_->close(); });
  ASSERT_TRUE(c->wait_closed());
  EXPECT_EQ(c->goaway_status(), std::optional<uint32_t>(kGoAwayOk));
  EXPECT_TRUE(testing::eventually([&] { return closed(); }));
  EXPECT_EQ(closed_why(), "closed by the server");
}

TEST_F(SpdySession, ClientGoAwayEndsTheSessionOnceStreamsAreDone) {
  handler_ = echo;
  auto& c = connect();
  int id = c->open_stream({{"streamtype", "stdin"}});
  c->send_raw(encode_goaway(0, kGoAwayOk));
  ASSERT_TRUE(c->write(id, "still here"));
  EXPECT_EQ(c->read(id), "still here");
  EXPECT_FALSE(closed());
  c->close_write(id);
  EXPECT_EQ(c->read_all(id), "");
  ASSERT_TRUE(c->wait_closed());
  EXPECT_TRUE(testing::eventually([&] { return closed(); }));
  EXPECT_EQ(closed_why(), "peer sent GOAWAY");
}

TEST_F(SpdySession, NewStreamsAfterGoAwayAreRefused) {
  handler_ = echo;
  auto& c = connect();
  int a = c->open_stream({{"streamtype", "a"}});
  c->send_raw(encode_goaway(0, kGoAwayOk));
  int b = c->open_stream({{"streamtype", "b"}});
  EXPECT_EQ(c->state(b).rst_status, kRefusedStream);
  EXPECT_TRUE(c->state(a).replied);
}

TEST_F(SpdySession, ClientDisconnectResetsOpenStreams) {
  std::atomic<bool> reset{false};
  handler_ = [&](std::shared_ptr<Stream> st) { st->on_reset = [&] { reset = true; }; };
  auto& c = connect();
  c->open_stream({{"streamtype", "a"}});
  c->disconnect();
  EXPECT_TRUE(testing::eventually([&] { return reset.load() && closed(); }));
  EXPECT_EQ(closed_why(), "peer closed the connection");
}

TEST_F(SpdySession, DataAndFinBeforeHandlersAreHeld) {
  std::shared_ptr<Stream> later;
  handler_ = [&](std::shared_ptr<Stream> st) { later = st; };  // no callbacks yet
  auto& c = connect(SpdyClientOptions{.flow_control = false});
  int id = c->open_stream({{"streamtype", "stdin"}});
  c->write(id, "early");
  c->close_write(id);
  ASSERT_TRUE(c->ping());
  std::string got;
  bool fin = false;
  run([&] {
    later->on_data = [&](std::string_view d) { got += d; };
    later->on_remote_fin = [&] { fin = true; };
    later->deliver_held();
  });
  EXPECT_EQ(got, "early");
  EXPECT_TRUE(fin);
}

TEST_F(SpdySession, BytesReadPastTheUpgradeAreHandled) {
  accept();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port_);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  HeaderDeflater z;
  std::string all = "GET /x HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n" +
                    encode_syn_stream(1, 0, 0, 0, z.compress({{"streamtype", "early"}}));
  ASSERT_EQ(::send(fd, all.data(), all.size(), 0), static_cast<ssize_t>(all.size()));
  EXPECT_TRUE(testing::eventually([&] {
    std::lock_guard lock(mu_);
    return stream_types_ == std::vector<std::string>{"early"};
  }));
  ::close(fd);
}

}  // namespace
}  // namespace crius::streaming::spdy
