#include "server/streaming/spdy/session.h"

#include <algorithm>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace crius::streaming::spdy {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// DATA payload per frame: small enough that streams interleave fairly.
constexpr std::size_t kDataChunk = 16 * 1024;
// Stop adding frames to one transport write past this.
constexpr std::size_t kWriteBatch = 256 * 1024;

}  // namespace

// ---- Stream ----

Stream::Stream(std::weak_ptr<Session> s, boost::asio::any_io_executor ex, uint32_t id, Headers h,
               int64_t send_window, uint32_t recv_window)
    : session_(std::move(s)), ex_(std::move(ex)), id_(id), headers_(std::move(h)), send_window_(send_window),
      recv_window_(recv_window) {}

void Stream::post(std::function<void()> f) { boost::asio::post(ex_, std::move(f)); }

void Stream::write(std::string data, std::function<void(bool)> sent) {
  auto session = session_.lock();
  bool ok = session && !session->closed_ && !dead_ && !fin_queued_;
  if (!ok || data.empty()) {
    if (sent) post([sent = std::move(sent), ok] { sent(ok); });
    return;
  }
  out_bytes_ += data.size();
  out_.push_back({std::move(data), 0, std::move(sent)});
  if (out_bytes_ > session->limits_.max_buffered_per_stream) {
    session->kill(shared_from_this(), kInternalError, true, true);
    return;
  }
  session->mark_ready(*this);
  session->kick();
}

void Stream::close_write() {
  auto session = session_.lock();
  if (!session || dead_ || fin_queued_) return;
  fin_queued_ = true;
  session->mark_ready(*this);
  session->kick();
}

void Stream::reset(uint32_t status) {
  if (dead_) return;
  if (auto session = session_.lock()) {
    session->kill(shared_from_this(), status, false);
  } else {
    dead_ = true;
    fail_pending();
  }
}

void Stream::consumed(std::size_t n) {
  n = std::min(n, unconsumed_);
  if (n == 0) return;
  unconsumed_ -= n;
  credit_ += n;
  if (auto session = session_.lock(); session && !session->closed_) {
    session->grant(this);
    session->update_pause();
  }
}

void Stream::deliver_held() {
  if (!held_.empty() && on_data) {
    std::string h = std::move(held_);
    held_.clear();
    on_data(h);
  }
  if (fin_held_ && held_.empty() && on_data) {
    fin_held_ = false;
    if (on_remote_fin) on_remote_fin();
  }
}

// Later, because one of them may be running now. They often hold the
// stream itself, and that cycle would leak it.
void Stream::drop_callbacks_later() {
  post([self = shared_from_this()] {
    self->on_data = nullptr;
    self->on_remote_fin = nullptr;
    self->on_reset = nullptr;
  });
}

void Stream::fail_pending() {
  for (auto& c : out_) {
    if (c.sent) post([sent = std::move(c.sent)] { sent(false); });
  }
  out_.clear();
  out_bytes_ = 0;
}

void Stream::receive(std::string_view data) {
  unconsumed_ += data.size();
  if (data.empty()) return;
  if (on_data && held_.empty()) {
    on_data(data);
  } else {
    held_.append(data);
  }
}

void Stream::remote_fin() {
  remote_fin_ = true;
  if (!on_data || !held_.empty()) {
    fin_held_ = true;
  } else if (on_remote_fin) {
    on_remote_fin();
  }
}

// ---- Session ----

std::shared_ptr<Session> Session::make(std::unique_ptr<Transport> t, std::string already_read, Limits l) {
  return std::make_shared<Session>(std::move(t), std::move(already_read), l);
}

Session::Session(std::unique_ptr<Transport> t, std::string already_read, Limits l)
    : t_(std::move(t)), initial_(std::move(already_read)), limits_(l), decoder_(l.max_frame),
      inflater_(l.max_header_bytes), read_buf_(kReadChunk), recv_window_(l.window) {}

Session::~Session() = default;

void Session::start() {
  if (started_) return;
  started_ = true;
  // Posted, so that on_stream never runs inside start().
  boost::asio::post(t_->executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    if (!self->initial_.empty()) {
      std::string first = std::move(self->initial_);
      self->initial_.clear();
      self->process(first);
    }
    self->read_more();
  });
}

void Session::read_more() {
  if (reading_ || paused_ || closed_ || failed_) return;
  reading_ = true;
  t_->async_read_some(boost::asio::buffer(read_buf_), [self = shared_from_this()](boost::system::error_code ec,
                                                                                  std::size_t n) {
    self->reading_ = false;
    if (self->closed_) return;
    if (ec) {
      self->finish(ec == boost::asio::error::eof ? "peer closed the connection" : "read failed: " + ec.message());
      return;
    }
    self->on_read(n);
  });
}

void Session::on_read(std::size_t n) {
  process(std::string_view(read_buf_.data(), n));
  read_more();
}

void Session::process(std::string_view bytes) {
  decoder_.feed(bytes);
  drain();
}

void Session::drain() {
  try {
    while (!closed_ && !failed_ && !paused_) {
      auto f = decoder_.next();
      if (!f) break;
      handle(*f);
    }
  } catch (const ProtocolError& e) {
    session_error(e.what(), kGoAwayProtocolError);
  } catch (const std::exception& e) {
    session_error(std::string("spdy: internal error handling a frame: ") + e.what(), kGoAwayInternalError);
  }
}

void Session::handle(Frame& f) {
  switch (f.type) {
    case FrameType::syn_stream: on_syn_stream(f); break;
    case FrameType::data: on_data(f); break;
    case FrameType::rst_stream: on_rst(f); break;
    case FrameType::settings: on_settings(f); break;
    case FrameType::window_update: on_window_update(f); break;
    case FrameType::goaway: on_goaway(); break;
    case FrameType::ping:
      // Odd ids are the client's own pings: echo them. Even ones would
      // answer pings of ours, and we send none.
      if (f.ping_id % 2 == 1) queue_control(encode_ping(f.ping_id));
      break;
    case FrameType::syn_reply: {
      // Every block must pass through the inflater to keep it in step.
      inflater_.decompress(f.payload);
      refuse(f.stream_id, kProtocolError);  // we open no streams to reply to
      break;
    }
    case FrameType::headers: {
      Headers h = inflater_.decompress(f.payload);
      auto it = streams_.find(f.stream_id);
      if (it == streams_.end()) {
        if (f.stream_id > last_peer_id_ || f.stream_id % 2 == 0) refuse(f.stream_id, kInvalidStream);
        break;
      }
      auto s = it->second;
      if (s->remote_fin_) {
        kill(s, kStreamAlreadyClosed, true);
        break;
      }
      s->headers_.insert(s->headers_.end(), h.begin(), h.end());
      if (f.flags & kFlagFin) {
        s->remote_fin();
        maybe_remove(s);
      }
      break;
    }
  }
}

void Session::on_syn_stream(Frame& f) {
  Headers h = inflater_.decompress(f.payload);
  uint32_t id = f.stream_id;
  if (id % 2 == 0 || id <= last_peer_id_) {
    session_error("spdy: SYN_STREAM for stream " + std::to_string(id) + ": client stream ids must be odd and rise (last " +
                      std::to_string(last_peer_id_) + ")",
                  kGoAwayProtocolError);
    return;
  }
  last_peer_id_ = id;
  if (closing_ || draining_ || !on_stream || streams_.size() >= limits_.max_streams) {
    refuse(id, kRefusedStream);
    return;
  }
  auto s = std::make_shared<Stream>(weak_from_this(), t_->executor(), id, std::move(h), peer_initial_window_,
                                    limits_.window);
  streams_[id] = s;
  // Nothing leaves until on_stream has returned: the reply then means the
  // stream was taken, and anything it wrote follows in the same write.
  building_ = true;
  if (f.flags & kFlagUnidirectional) {
    // The client will not hear from us on it: no reply, our side is done.
    s->fin_queued_ = s->fin_sent_ = true;
  } else {
    queue_control(encode_syn_reply(id, 0, deflater_.compress({})));
  }
  try {
    on_stream(s);
  } catch (...) {
    building_ = false;
    throw;
  }
  building_ = false;
  kick();
  if (s->dead_ || closed_) return;
  if (f.flags & kFlagFin) s->remote_fin();
  maybe_remove(s);
}

void Session::on_data(Frame& f) {
  std::size_t n = f.payload.size();
  recv_window_ -= static_cast<int64_t>(n);
  if (recv_window_ < 0 && peer_fc_) {
    session_error("spdy: client overran the session window by " + std::to_string(-recv_window_) + " bytes",
                  kGoAwayProtocolError);
    return;
  }
  // Session window is granted back on receipt: the stream windows already
  // bound what consumers hold, and one slow stream must not stall the others.
  recv_credit_ += n;
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end()) {
    // Late data for a stream that has ended is dropped quietly; data for a
    // stream that never existed is an error.
    if (f.stream_id > last_peer_id_ || f.stream_id % 2 == 0) refuse(f.stream_id, kInvalidStream);
    grant(nullptr);
    return;
  }
  auto s = it->second;
  if (s->remote_fin_) {
    kill(s, kStreamAlreadyClosed, true);
    grant(nullptr);
    return;
  }
  s->recv_window_ -= static_cast<int64_t>(n);
  if (s->recv_window_ < 0 && peer_fc_) {
    kill(s, kFlowControlError, true);
    grant(nullptr);
    return;
  }
  s->receive(f.payload);
  if (!s->dead_ && (f.flags & kFlagFin)) s->remote_fin();
  grant(s.get());
  update_pause();
  maybe_remove(s);
}

void Session::on_rst(const Frame& f) {
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end()) return;  // never answer a RST with a RST
  kill(it->second, 0, true);
}

void Session::on_settings(const Frame& f) {
  for (const auto& s : f.settings) {
    if (s.id != kSettingInitialWindowSize) continue;
    if (s.value > kMaxWindow) {
      session_error("spdy: SETTINGS initial window " + std::to_string(s.value) + " exceeds 2^31-1",
                    kGoAwayProtocolError);
      return;
    }
    int64_t delta = int64_t{s.value} - peer_initial_window_;
    peer_initial_window_ = s.value;
    for (auto& [id, st] : streams_) {
      st->send_window_ += delta;
      if (!st->out_.empty()) mark_ready(*st);
    }
    peer_fc_ = true;
  }
  kick();
}

void Session::on_window_update(const Frame& f) {
  peer_fc_ = true;
  if (f.delta == 0) {
    if (f.stream_id == 0) {
      session_error("spdy: WINDOW_UPDATE of 0 for the session", kGoAwayProtocolError);
    } else if (auto it = streams_.find(f.stream_id); it != streams_.end()) {
      kill(it->second, kProtocolError, true);
    }
    return;
  }
  if (f.stream_id == 0) {
    send_window_ += f.delta;
    if (send_window_ > kMaxWindow) {
      session_error("spdy: WINDOW_UPDATE takes the session window past 2^31-1", kGoAwayProtocolError);
      return;
    }
    for (auto& [id, st] : streams_) {
      if (!st->out_.empty()) mark_ready(*st);
    }
  } else {
    auto it = streams_.find(f.stream_id);
    if (it == streams_.end()) return;
    auto s = it->second;
    s->send_window_ += f.delta;
    if (s->send_window_ > kMaxWindow) {
      kill(s, kFlowControlError, true);
      return;
    }
    if (!s->out_.empty()) mark_ready(*s);
  }
  kick();
}

void Session::on_goaway() {
  draining_ = true;
  if (streams_.empty() && !closing_) {
    closing_ = true;
    close_reason_ = "peer sent GOAWAY";
    maybe_finish_close();
  }
}

void Session::refuse(uint32_t id, uint32_t status) {
  queue_control(encode_rst_stream(id, status));
}

void Session::kill(std::shared_ptr<Stream> s, uint32_t status, bool notify, bool later) {
  if (s->dead_) return;
  s->dead_ = true;
  if (status != 0 && !closed_) queue_control(encode_rst_stream(s->id_, status));
  s->fail_pending();
  // Posted before remove() posts the clearing of the callbacks.
  if (notify && later) {
    s->post([s] {
      if (s->on_reset) s->on_reset();
    });
  }
  remove(s->id_);
  if (notify && !later && s->on_reset) s->on_reset();
  s->drop_callbacks_later();  // remove() did not if the map was already emptied
}

void Session::session_error(const std::string& why, uint32_t status) {
  if (closed_ || failed_) return;
  failed_ = true;
  closing_ = true;
  close_reason_ = why;
  auto streams = std::move(streams_);
  streams_.clear();
  ready_.clear();
  queue_control(encode_goaway(last_peer_id_, status));
  for (auto& [id, s] : streams) kill(s, 0, true);
  if (!close_timer_) {
    close_timer_.emplace(t_->executor());
    close_timer_->expires_after(limits_.close_timeout);
    close_timer_->async_wait([w = weak_from_this()](boost::system::error_code ec) {
      if (auto self = w.lock(); self && !ec) self->finish(self->close_reason_);
    });
  }
  maybe_finish_close();
}

void Session::close() {
  if (closing_ || closed_) return;
  closing_ = true;
  close_reason_ = "closed by the server";
  queue_control(encode_goaway(last_peer_id_, kGoAwayOk));
  close_timer_.emplace(t_->executor());
  close_timer_->expires_after(limits_.close_timeout);
  close_timer_->async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->finish(self->close_reason_ + " (queued writes timed out)");
  });
  maybe_finish_close();
}

void Session::queue_control(std::string frame) {
  if (closed_) return;
  control_.push_back(std::move(frame));
  kick();
}

void Session::mark_ready(Stream& s) {
  if (s.in_ready_ || s.dead_) return;
  s.in_ready_ = true;
  ready_.push_back(s.weak_from_this());
}

bool Session::enforce_send_window() const {
  switch (limits_.peer_flow_control) {
    case PeerFlowControl::always: return true;
    case PeerFlowControl::never: return false;
    case PeerFlowControl::detect: return peer_fc_;
  }
  return true;
}

// Fills one transport write: every control frame first, then DATA frames
// taken round-robin from the streams that have some and the window for it.
void Session::kick() {
  if (write_busy_ || building_ || closed_ || !started_) return;
  writing_.clear();
  writing_done_.clear();
  while (!control_.empty()) {
    writing_ += control_.front();
    control_.pop_front();
  }
  std::deque<std::weak_ptr<Stream>> blocked;
  const bool enforce = enforce_send_window();
  building_ = true;
  while (!ready_.empty() && writing_.size() < kWriteBatch) {
    auto s = ready_.front().lock();
    ready_.pop_front();
    if (!s) continue;
    s->in_ready_ = false;
    if (s->dead_) continue;
    if (!s->out_.empty()) {
      int64_t allowed = kDataChunk;
      if (enforce) allowed = std::min({allowed, s->send_window_, send_window_});
      if (allowed <= 0) {
        s->in_ready_ = true;
        blocked.push_back(s);
        continue;
      }
      auto& c = s->out_.front();
      std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(allowed), c.data.size() - c.offset);
      bool last_chunk = n == c.data.size() - c.offset && s->out_.size() == 1;
      bool fin = last_chunk && s->fin_queued_;
      writing_ += encode_data(s->id_, std::string_view(c.data).substr(c.offset, n), fin ? kFlagFin : 0);
      c.offset += n;
      s->out_bytes_ -= n;
      s->send_window_ -= static_cast<int64_t>(n);
      send_window_ -= static_cast<int64_t>(n);
      if (c.offset == c.data.size()) {
        if (c.sent) writing_done_.push_back(std::move(c.sent));
        s->out_.pop_front();
      }
      if (fin) s->fin_sent_ = true;
    } else if (s->fin_queued_ && !s->fin_sent_) {
      writing_ += encode_data(s->id_, {}, kFlagFin);
      s->fin_sent_ = true;
    }
    if (!s->out_.empty() || (s->fin_queued_ && !s->fin_sent_)) {
      mark_ready(*s);
    } else if (s->fin_sent_) {
      maybe_remove(s);
    }
  }
  building_ = false;
  for (auto& b : blocked) ready_.push_back(std::move(b));
  if (writing_.empty()) {
    maybe_finish_close();
    return;
  }
  write_busy_ = true;
  t_->async_write(boost::asio::buffer(writing_), [self = shared_from_this()](boost::system::error_code ec,
                                                                             std::size_t) { self->write_done(ec); });
}

void Session::write_done(boost::system::error_code ec) {
  write_busy_ = false;
  auto done = std::move(writing_done_);
  writing_done_.clear();
  for (auto& d : done) d(!ec);
  if (ec) {
    finish("write failed: " + ec.message());
    return;
  }
  kick();
}

void Session::grant(Stream* s) {
  const int64_t low = limits_.window / 2;
  if (closed_ || failed_) return;
  // A window update only once the peer's remaining window is down to half:
  // fewer frames, and the peer never waits while credit is owed.
  if (s && s->credit_ > 0 && !s->dead_ && !s->remote_fin_ && s->recv_window_ <= low) {
    queue_control(encode_window_update(s->id_, static_cast<uint32_t>(s->credit_)));
    s->recv_window_ += static_cast<int64_t>(s->credit_);
    s->credit_ = 0;
  }
  if (recv_credit_ > 0 && recv_window_ <= low) {
    queue_control(encode_window_update(0, static_cast<uint32_t>(recv_credit_)));
    recv_window_ += static_cast<int64_t>(recv_credit_);
    recv_credit_ = 0;
  }
}

void Session::maybe_remove(const std::shared_ptr<Stream>& s) {
  if (!s->dead_ && s->fin_sent_ && s->remote_fin_ && s->out_.empty()) remove(s->id_);
}

void Session::remove(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto s = it->second;
  streams_.erase(it);
  s->drop_callbacks_later();
  update_pause();
  if (draining_ && streams_.empty() && !closing_) {
    closing_ = true;
    close_reason_ = "peer sent GOAWAY";
  }
  maybe_finish_close();
}

// Reading, and handling the frames already read, stop while a stream holds
// more unconsumed data than its window: the only brake on a client that
// ignores flow control (all streams wait, as they would behind a
// spdystream server's blocked frame reader).
void Session::update_pause() {
  bool want = std::any_of(streams_.begin(), streams_.end(),
                          [&](const auto& e) { return e.second->unconsumed_ > limits_.window; });
  if (want == paused_) return;
  paused_ = want;
  // Resumed from a consumer's call: finish the frames already read first,
  // later and not inside that call.
  if (!paused_ && started_) {
    boost::asio::post(t_->executor(), [self = shared_from_this()] {
      self->drain();
      self->read_more();
    });
  }
}

void Session::maybe_finish_close() {
  if (!closing_ || closed_ || write_busy_ || building_ || !control_.empty()) return;
  if (!failed_) {
    for (auto& [id, s] : streams_) {
      if (!s->out_.empty() || (s->fin_queued_ && !s->fin_sent_)) return;
    }
  }
  finish(close_reason_);
}

void Session::finish(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  if (close_timer_) close_timer_->cancel();
  t_->close();
  control_.clear();
  ready_.clear();
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) kill(s, 0, true);
  auto cb = std::move(on_closed);
  on_closed = nullptr;
  if (cb) cb(why);
  boost::asio::post(t_->executor(), [self = shared_from_this()] { self->on_stream = nullptr; });
}

}  // namespace crius::streaming::spdy
