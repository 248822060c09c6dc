// remotecommand over SPDY: the client opens one stream per channel, named
// by its streamType header (error, stdin, stdout, stderr, resize); once all
// the streams its options call for are there, the process starts. At the
// end the status goes to the error stream, the output streams are closed
// (FIN after their data), and the client closes the connection.
#include <boost/asio/steady_timer.hpp>

#include "base/log.h"
#include "server/streaming/handlers.h"
#include "server/streaming/remote_command.h"
#include "server/streaming/spdy/session.h"

namespace crius::streaming {

namespace {

// How long the client may take to close the connection once the status is
// sent (it reads what is still in flight first).
constexpr std::chrono::seconds kFinishTimeout{60};

class SpdyRemoteCommand : public std::enable_shared_from_this<SpdyRemoteCommand> {
 public:
  SpdyRemoteCommand(std::shared_ptr<spdy::Session> s, int version, Request r, std::shared_ptr<Context> ctx,
                    std::shared_ptr<SessionSlot> slot)
      : session_(std::move(s)), version_(version), request_(std::move(r)), ctx_(std::move(ctx)),
        slot_(std::move(slot)), timer_(ctx_->io) {
    std::visit(
        [this](const auto& q) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(q)>, PortForwardRequest>) {
            tty_ = q.tty;
            want_stdin_ = q.stdin;
            want_stdout_ = q.stdout;
            want_stderr_ = q.stderr && !q.tty;
          }
        },
        request_);
    expected_ = 1 + want_stdin_ + want_stdout_ + want_stderr_ + (tty_ && version_ >= 3);
  }

  void start() {
    auto self = shared_from_this();
    session_->on_stream = [self](std::shared_ptr<spdy::Stream> st) { self->add(std::move(st)); };
    session_->on_closed = [self](const std::string& why) {
      boost::asio::post(self->ctx_->io, [self, why] { self->closed(why); });
    };
    timer_.expires_after(ctx_->opts.stream_creation_timeout);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->rc_) return;
      log::warn("streaming: the client did not create its streams in time",
                {{"kind", kind_of(self->request_)}, {"streams", std::to_string(self->received_)}});
      self->session_->close();
    });
    session_->start();
  }

 private:
  void add(std::shared_ptr<spdy::Stream> st) {
    const std::string type = st->header("streamtype");
    std::weak_ptr<SpdyRemoteCommand> weak = weak_from_this();
    if (type == "error") {
      error_ = st;
    } else if (type == "stdin") {
      stdin_ = st;
      st->on_data = [weak, raw = st.get()](std::string_view d) {
        auto self = weak.lock();
        if (!self || !self->rc_ || self->version_ < 2) {
          if (self && !self->rc_) self->early_stdin_.emplace_back(d);
          else raw->consumed(d.size());
          return;
        }
        const size_t n = d.size();
        self->rc_->stdin_data(std::string(d), [s = self->stdin_, n] { s->consumed(n); });
      };
      st->on_remote_fin = [weak] {
        if (auto self = weak.lock()) {
          if (self->rc_) self->rc_->stdin_closed();
          else self->early_fin_ = true;
        }
      };
      st->on_reset = st->on_remote_fin;
    } else if (type == "stdout") {
      stdout_ = st;
    } else if (type == "stderr") {
      stderr_ = st;
    } else if (type == "resize") {
      resize_ = st;
      st->on_data = [weak, raw = st.get()](std::string_view d) {
        raw->consumed(d.size());
        if (auto self = weak.lock(); self && self->rc_) self->rc_->resize_data(d);
      };
    } else {
      log::warn("streaming: unexpected stream type", {{"type", type}});
      st->reset();
      return;
    }
    if (++received_ == expected_) go();
  }

  void go() {
    timer_.cancel();
    std::weak_ptr<SpdyRemoteCommand> weak = weak_from_this();
    RemoteCommand::Client c;
    auto writer = [](std::shared_ptr<spdy::Stream> s) -> RemoteCommand::Client::Write {
      if (!s) return {};
      return [s](std::string d, std::function<void(bool)> sent) { s->write(std::move(d), std::move(sent)); };
    };
    c.stdout_w = writer(stdout_);
    c.stderr_w = writer(stderr_);
    c.finish = [weak](const Outcome& o) {
      if (auto self = weak.lock()) self->finish(o);
    };
    rc_ = std::make_shared<RemoteCommand>(ctx_, request_, std::move(c));
    // Version 1 never reads stdin (its client's stdin stream is closed at once).
    if (stdin_ && version_ >= 2) {
      for (auto& d : early_stdin_) {
        const size_t n = d.size();
        rc_->stdin_data(std::move(d), [s = stdin_, n] { s->consumed(n); });
      }
      if (early_fin_) rc_->stdin_closed();
    } else if (want_stdin_) {
      rc_->stdin_closed();
    }
    early_stdin_.clear();
    rc_->begin();
  }

  void finish(const Outcome& o) {
    if (error_) {
      const std::string status = version_ >= 4 ? status_json(o) : status_text(o);
      if (!status.empty()) error_->write(status);
    }
    // Input stops; output ends after what is queued; the client closes.
    for (auto* s : {&stdin_, &resize_})
      if (*s) (*s)->reset();
    for (auto* s : {&stdout_, &stderr_, &error_})
      if (*s) (*s)->close_write();
    timer_.expires_after(kFinishTimeout);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->session_->close();
    });
  }

  void closed(const std::string& why) {
    if (rc_ && !rc_->finished()) log::info("streaming: the client went away", {{"why", why}});
    if (rc_) rc_->client_gone();
    timer_.cancel();
    // Breaks the cycles through the session's and streams' handlers.
    session_->on_stream = {};
    session_->on_closed = {};
    for (auto* s : {&error_, &stdin_, &stdout_, &stderr_, &resize_})
      if (*s) {
        (*s)->on_data = {};
        (*s)->on_remote_fin = {};
        (*s)->on_reset = {};
        s->reset();
      }
    rc_.reset();
    slot_.reset();
  }

  std::shared_ptr<spdy::Session> session_;
  int version_;
  Request request_;
  std::shared_ptr<Context> ctx_;
  std::shared_ptr<SessionSlot> slot_;
  boost::asio::steady_timer timer_;
  bool tty_ = false, want_stdin_ = false, want_stdout_ = false, want_stderr_ = false;
  int expected_ = 1, received_ = 0;
  std::shared_ptr<spdy::Stream> error_, stdin_, stdout_, stderr_, resize_;
  std::vector<std::string> early_stdin_;
  bool early_fin_ = false;
  std::shared_ptr<RemoteCommand> rc_;
};

}  // namespace

void serve_spdy_remote_command(std::shared_ptr<spdy::Session> s, int version, Request r,
                               std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot) {
  std::make_shared<SpdyRemoteCommand>(std::move(s), version, std::move(r), std::move(ctx), std::move(slot))->start();
}

}  // namespace crius::streaming
