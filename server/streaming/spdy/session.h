// A server-side SPDY/3.1 session over a streaming Transport: the client
// (kubectl, through client-go and moby/spdystream) opens streams with
// SYN_STREAM; the session answers each it accepts with SYN_REPLY and hands
// it to on_stream. Everything runs on the transport's io_context thread:
// callbacks are called there, and the objects must be used only there.
//
// Flow control. SPDY/3.1 has a window per stream and one for the session
// (stream id 0), 64 KiB each at the start. moby/spdystream, the SPDY stack
// of every Kubernetes client, implements none of it: it never sends
// WINDOW_UPDATE and ignores ours. So the session, by default
// (PeerFlowControl::detect), honours the peer's windows only once the peer
// shows it keeps them, by sending a WINDOW_UPDATE or a SETTINGS with
// INITIAL_WINDOW_SIZE; a flow-controlling client should send its SETTINGS
// first, as SPDY/3.1 clients do. Before that the peer's windows are counted
// but not waited for (exactly what a spdystream server does). On the
// receiving side the session grants window only for bytes the consumer
// releases with Stream::consumed(); a peer known to keep windows that
// overruns one gets RST_STREAM FLOW_CONTROL_ERROR, and one that does not
// keep them is slowed by pausing reads from the transport until the
// consumer catches up. Either way a slow consumer holds at most about one
// window (plus one frame) per stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "server/streaming/spdy/frame.h"
#include "server/streaming/spdy/header_block.h"
#include "server/streaming/transport.h"

namespace crius::streaming::spdy {

enum class PeerFlowControl {
  detect,  // honour the peer's windows once it sends WINDOW_UPDATE or SETTINGS (default)
  always,  // honour them from the start, as the spec says
  never,   // never wait for them
};

struct Limits {
  std::size_t max_frame = kDefaultMaxPayload;       // largest frame payload accepted
  std::size_t max_streams = 64;                     // concurrent streams; more get REFUSED_STREAM
  uint32_t window = kDefaultWindow;                 // our receive window per stream and for the session
  std::size_t max_buffered_per_stream = 1u << 20;   // queued outgoing bytes per stream before it is reset
  std::size_t max_header_bytes = kDefaultMaxHeaderBytes;  // one inflated header block
  std::chrono::milliseconds close_timeout{5000};    // close(): how long queued writes may take
  PeerFlowControl peer_flow_control = PeerFlowControl::detect;
};

class Session;

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  uint32_t id() const { return id_; }
  const Headers& headers() const { return headers_; }
  // The first value of a header (lowercase name), "" when absent.
  std::string header(std::string_view name) const { return header_value(headers_, name); }

  // Queues data, sent as DATA frames within the peer's window; never blocks.
  // `sent(true)` is called (on the io thread, never from inside write) once
  // all of it has been written to the transport; `sent(false)` if the stream
  // or the session died first. Producers should wait for it: when more than
  // Limits::max_buffered_per_stream bytes are queued, write still accepts,
  // but the session resets the stream (RST_STREAM INTERNAL_ERROR, on_reset,
  // every pending `sent(false)`), so a producer that ignores backpressure
  // loses its stream rather than the daemon its memory.
  void write(std::string data, std::function<void(bool)> sent = {});
  // Our FIN, after the queued data. Later writes fail.
  void close_write();
  // RST_STREAM (CANCEL by default); drops queued data. on_reset is not
  // called for a reset we make ourselves.
  void reset(uint32_t status = kCancel);
  // Releases n bytes handed to on_data: the session grants the peer that
  // much window again. Data not released holds the window (bounded memory).
  void consumed(std::size_t n);

  // Set these inside on_stream. Data or a FIN that arrives while on_data is
  // unset is held (within the window) until deliver_held() is called.
  std::function<void(std::string_view)> on_data;  // bytes from the client
  std::function<void()> on_remote_fin;            // the client's FIN
  std::function<void()> on_reset;                 // RST from the client, or the session ended
  void deliver_held();

  bool remote_closed() const { return remote_fin_; }
  bool local_closed() const { return fin_queued_; }
  bool is_reset() const { return dead_; }
  std::size_t queued_bytes() const { return out_bytes_; }

  // Made by the session only; public for make_shared.
  Stream(std::weak_ptr<Session> s, boost::asio::any_io_executor ex, uint32_t id, Headers h, int64_t send_window,
         uint32_t recv_window);

 private:
  friend class Session;
  struct Chunk {
    std::string data;
    std::size_t offset = 0;
    std::function<void(bool)> sent;
  };

  void fail_pending();
  void drop_callbacks_later();
  void receive(std::string_view data);
  void remote_fin();
  void post(std::function<void()> f);

  std::weak_ptr<Session> session_;
  boost::asio::any_io_executor ex_;
  uint32_t id_;
  Headers headers_;
  // Outgoing.
  std::deque<Chunk> out_;
  std::size_t out_bytes_ = 0;
  bool fin_queued_ = false;
  bool fin_sent_ = false;
  int64_t send_window_;
  // Incoming.
  int64_t recv_window_;     // how much more the peer may send
  std::size_t credit_ = 0;  // released by the consumer, not yet granted
  std::size_t unconsumed_ = 0;
  bool remote_fin_ = false;
  bool fin_held_ = false;
  std::string held_;
  bool dead_ = false;  // reset either way, or the session ended
  bool in_ready_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `already_read`: bytes the HTTP parser read past the upgrade request.
  static std::shared_ptr<Session> make(std::unique_ptr<Transport> t, std::string already_read, Limits l = {});
  ~Session();

  // A new stream from the client. Its SYN_REPLY is queued before this is
  // called and sent once it returns, ahead of anything written here;
  // reset() inside it refuses the stream (the client sees the reply, then
  // RST_STREAM: the reply is already in the shared zlib stream). Without a
  // handler every stream is refused with REFUSED_STREAM.
  std::function<void(std::shared_ptr<Stream>)> on_stream;
  // Called once when the session ends: transport gone, GOAWAY received (once
  // its streams are done), protocol error, or close().
  std::function<void(const std::string& why)> on_closed;

  void start();
  // GOAWAY, then closes the transport once queued writes are flushed, or
  // after Limits::close_timeout. Idempotent.
  void close();
  bool closed() const { return closed_; }
  // For a server whose io_context no longer runs (~Server): the transport
  // goes, and with it what it held that owns this session (a WebSocket
  // tunnel's queued writes). Nothing else may be called afterwards.
  void abandon() {
    closed_ = true;  // so that no read or write is started on the missing transport
    t_.reset();
  }

  std::size_t stream_count() const { return streams_.size(); }
  // True once the peer has shown it keeps flow-control windows.
  bool peer_flow_control() const { return peer_fc_; }

  Session(std::unique_ptr<Transport> t, std::string already_read, Limits l);

 private:
  friend class Stream;

  void read_more();
  void on_read(std::size_t n);
  void process(std::string_view bytes);
  void drain();  // handles decoded frames until none are left or reading is paused
  void handle(Frame& f);
  void on_syn_stream(Frame& f);
  void on_data(Frame& f);
  void on_rst(const Frame& f);
  void on_settings(const Frame& f);
  void on_window_update(const Frame& f);
  void on_goaway();
  void session_error(const std::string& why, uint32_t status);
  void refuse(uint32_t id, uint32_t status);
  // Ends a stream: RST_STREAM with `status` unless 0, pending writes fail,
  // and on_reset runs when `notify` (posted when `later`).
  // (`s` by value: the map entry it may come from is erased.)
  void kill(std::shared_ptr<Stream> s, uint32_t status, bool notify, bool later = false);

  void queue_control(std::string frame);
  void mark_ready(Stream& s);
  void kick();
  void write_done(boost::system::error_code ec);
  void grant(Stream* s);  // WINDOW_UPDATEs for released bytes (s may be null: the session only)
  void maybe_remove(const std::shared_ptr<Stream>& s);
  void remove(uint32_t id);
  void update_pause();
  void maybe_finish_close();
  void finish(const std::string& why);
  bool enforce_send_window() const;

  std::unique_ptr<Transport> t_;
  std::string initial_;
  Limits limits_;
  FrameDecoder decoder_;
  HeaderInflater inflater_;
  HeaderDeflater deflater_;
  std::map<uint32_t, std::shared_ptr<Stream>> streams_;
  uint32_t last_peer_id_ = 0;

  std::vector<char> read_buf_;
  bool reading_ = false;
  bool paused_ = false;

  std::deque<std::string> control_;
  std::deque<std::weak_ptr<Stream>> ready_;  // streams with data or a FIN to send
  std::string writing_;                       // the buffer of the async_write in flight
  std::vector<std::function<void(bool)>> writing_done_;
  bool write_busy_ = false;
  bool building_ = false;  // kick() is filling writing_, or on_stream runs: write nothing now

  int64_t send_window_ = kDefaultWindow;  // peer's session window for us
  int64_t peer_initial_window_ = kDefaultWindow;
  bool peer_fc_ = false;
  int64_t recv_window_;  // session bytes the peer may still send
  std::size_t recv_credit_ = 0;

  bool failed_ = false;    // a session error: stop reading and handling frames
  std::string close_reason_;
  bool closing_ = false;   // GOAWAY sent: refuse new streams, end once flushed
  bool draining_ = false;  // GOAWAY received: end once the streams are done
  bool closed_ = false;
  bool started_ = false;
  std::optional<boost::asio::steady_timer> close_timer_;
};

}  // namespace crius::streaming::spdy
