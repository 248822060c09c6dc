// A blocking SPDY/3.1 client for tests, written from the spec on top of the
// crius_spdy codec: the HTTP/1.1 upgrade, then streams the way kubectl opens
// them. One reader thread demultiplexes frames into per-stream queues; the
// calls below block the caller (with timeouts) and are thread-safe.
//
// By default it keeps SPDY/3.1 flow control: it announces its window in a
// SETTINGS frame first, waits for the server's window before sending DATA,
// and grants window back as the test reads. With flow_control = false it
// behaves like moby/spdystream (kubectl): no SETTINGS, no WINDOW_UPDATE, and
// the server's windows ignored.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/streaming/spdy/frame.h"
#include "server/streaming/spdy/header_block.h"

namespace crius::testing {

using streaming::spdy::Headers;
using namespace std::chrono_literals;

struct SpdyClientOptions {
  bool flow_control = true;
  uint32_t window = streaming::spdy::kDefaultWindow;  // our receive window per stream
  std::size_t max_frame = (1u << 24) - 1;             // refuse frames larger than this
  std::chrono::milliseconds timeout = 10s;            // connect and upgrade
};

struct SpdyStreamState {
  bool replied = false;     // SYN_REPLY received
  bool remote_fin = false;  // the server's FIN received
  bool reset = false;       // RST_STREAM either way
  uint32_t rst_status = 0;  // the server's status, when it reset
  bool local_fin = false;
  Headers reply_headers;
  std::size_t unread = 0;      // received, not yet read
  std::size_t max_unread = 0;  // the most ever held unread (flow-control checks)
};

class SpdyClient {
 public:
  // Connects and sends `GET <path>` asking to upgrade to SPDY/3.1, one
  // X-Stream-Protocol-Version header per protocol. Any status is returned:
  // check status() (101 when upgraded). Throws when it cannot connect or
  // the answer is not HTTP.
  static std::unique_ptr<SpdyClient> connect(const std::string& host, uint16_t port, const std::string& path,
                                             std::vector<std::string> protocols, SpdyClientOptions o = {},
                                             const Headers& extra_headers = {});
  // Speaks SPDY at once over a connected fd it takes over (a tunnel set up
  // by the caller, a socketpair).
  static std::unique_ptr<SpdyClient> over_fd(int fd, SpdyClientOptions o = {});
  ~SpdyClient();
  SpdyClient(const SpdyClient&) = delete;
  SpdyClient& operator=(const SpdyClient&) = delete;

  // The upgrade answer.
  int status() const { return status_; }
  const Headers& response_headers() const { return response_headers_; }
  std::string response_header(std::string_view lowercase_name) const;
  const std::string& body() const { return body_; }
  bool upgraded() const { return status_ == 101; }

  // SYN_STREAM with the next odd id; waits for SYN_REPLY or RST_STREAM until
  // the timeout. Returns the id either way: see state().
  int open_stream(const Headers& headers, std::chrono::milliseconds timeout = 5s, bool fin = false);
  // Sends all of data (waiting for window when flow control is on); false
  // if the stream was reset or the connection ended first.
  bool write(int stream, std::string_view data, std::chrono::milliseconds timeout = 10s);
  void close_write(int stream);
  void reset(int stream, uint32_t status = streaming::spdy::kCancel);
  // The next chunk; nullopt at FIN, RST, or timeout (state() tells which).
  std::optional<std::string> read(int stream, std::chrono::milliseconds timeout = 5s);
  // Everything up to the FIN (or RST, or the timeout).
  std::string read_all(int stream, std::chrono::milliseconds timeout = 10s);
  // Waits until the stream is reset or the FIN arrived.
  bool wait_ended(int stream, std::chrono::milliseconds timeout = 5s);
  SpdyStreamState state(int stream) const;

  // PING with the next odd id; true when the echo came back in time.
  bool ping(std::chrono::milliseconds timeout = 5s);
  // GOAWAY from the server, when one came, with its status.
  std::optional<uint32_t> goaway_status() const;
  // True once the connection ended (EOF, error, or a bad frame).
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  bool closed() const;
  // Why the reader stopped, when it did.
  std::string close_reason() const;

  // Hostile tests: bytes as they are, or a SYN_STREAM with a chosen id.
  void send_raw(std::string_view bytes);
  void send_syn_stream(uint32_t id, const Headers& headers, uint8_t flags = 0);
  // GOAWAY (OK) then shut the connection; waits for the reader.
  void close();
  // Just drops the connection.
  void disconnect();

 private:
  explicit SpdyClient(SpdyClientOptions o);
  void upgrade(const std::string& host, uint16_t port, const std::string& path,
               const std::vector<std::string>& protocols, const Headers& extra);
  void start_spdy(std::string already_read);
  void reader();
  void handle(streaming::spdy::Frame& f);
  void send(const std::string& frame);

  struct StreamData {
    SpdyStreamState st;
    std::deque<std::string> chunks;
    int64_t send_window = streaming::spdy::kDefaultWindow;
  };

  SpdyClientOptions opts_;
  int fd_ = -1;
  int status_ = 0;
  Headers response_headers_;
  std::string body_;

  std::mutex write_mu_;  // one frame at a time on the wire; guards deflater_ and next ids
  streaming::spdy::HeaderDeflater deflater_;
  uint32_t next_stream_id_ = 1;
  uint32_t next_ping_id_ = 1;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint32_t, StreamData> streams_;
  std::vector<uint32_t> ping_replies_;
  int64_t send_window_ = streaming::spdy::kDefaultWindow;  // session level
  int64_t peer_initial_window_ = streaming::spdy::kDefaultWindow;
  std::optional<uint32_t> goaway_;
  bool closed_ = false;
  std::string close_reason_;
  std::thread reader_;
};

}  // namespace crius::testing
