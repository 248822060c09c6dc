#include "server/streaming/remote_command.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace crius::streaming {

namespace {
// A resize event is a few dozen bytes; more without a complete object is garbage.
constexpr size_t kMaxResizeBuffer = 4096;
}  // namespace

RemoteCommand::RemoteCommand(std::shared_ptr<Context> ctx, Request r, Client c)
    : ctx_(std::move(ctx)), request_(std::move(r)), client_(std::move(c)) {}

RemoteCommand::~RemoteCommand() {
  if (io_) io_->close();
}

void RemoteCommand::begin() {
  if (begun_) return;
  begun_ = true;
  auto self = shared_from_this();
  Context* ctx = ctx_.get();
  ctx_->blocking<std::unique_ptr<ProcessIo>>(
      [ctx, r = request_]() -> std::unique_ptr<ProcessIo> {
        if (auto* exec = std::get_if<ExecRequest>(&r)) return ctx->backend->exec(*exec, ctx->io);
        return ctx->backend->attach(std::get<AttachRequest>(r), ctx->io);
      },
      [self](std::unique_ptr<ProcessIo> io, std::string error) { self->started(std::move(io), error); });
}

void RemoteCommand::started(std::unique_ptr<ProcessIo> io, const std::string& error) {
  if (!error.empty() || !io) {
    log::warn("streaming: the process could not be started",
              {{"kind", kind_of(request_)}, {"error", error}});
    end(Outcome::failed(error.empty() ? "no process" : error));
    return;
  }
  io_ = std::move(io);
  if (gone_) {
    io_->close();
    io_.reset();
    return;
  }
  std::weak_ptr<RemoteCommand> weak = shared_from_this();
  ProcessIo::Handlers h;
  h.stdout_data = [weak](std::string_view d) {
    if (auto s = weak.lock()) s->output(s->client_.stdout_w, d);
  };
  h.stderr_data = [weak](std::string_view d) {
    if (auto s = weak.lock()) s->output(s->client_.stderr_w, d);
  };
  // An attach ends in success when the container ends, whatever its exit
  // code (kubelet reports it in the container's status, not here).
  const bool attach = std::holds_alternative<AttachRequest>(request_);
  h.exited = [weak, attach](int code) {
    if (auto s = weak.lock()) s->end(Outcome::exited(attach ? 0 : code));
  };
  h.failed = [weak](const std::string& why) {
    if (auto s = weak.lock()) s->end(Outcome::failed(why));
  };
  io_->start(std::move(h));
  // The terminal's size before the input that may ask for it.
  if (pending_size_) io_->resize(pending_size_->first, pending_size_->second);
  flush_stdin();
}

void RemoteCommand::output(const Client::Write& w, std::string_view data) {
  if (!w || gone_) {
    if (io_) io_->ack();
    return;
  }
  std::weak_ptr<RemoteCommand> weak = shared_from_this();
  w(std::string(data), [weak](bool) {
    if (auto s = weak.lock(); s && s->io_) s->io_->ack();
  });
}

void RemoteCommand::flush_stdin() {
  if (!io_) return;
  while (!pending_stdin_.empty()) {
    auto [data, consumed] = std::move(pending_stdin_.front());
    pending_stdin_.pop_front();
    io_->write_stdin(std::move(data), std::move(consumed));
  }
  if (stdin_closed_) io_->close_stdin();
}

void RemoteCommand::stdin_data(std::string data, std::function<void()> consumed) {
  if (finished_) {
    if (consumed) consumed();
    return;
  }
  pending_stdin_.emplace_back(std::move(data), std::move(consumed));
  flush_stdin();
}

void RemoteCommand::stdin_closed() {
  stdin_closed_ = true;
  flush_stdin();
}

void RemoteCommand::resize_data(std::string_view data) {
  resize_buf_.append(data);
  // Each event is one flat JSON object; take every complete one.
  for (;;) {
    const auto open = resize_buf_.find('{');
    if (open == std::string::npos) {
      resize_buf_.clear();
      return;
    }
    const auto close = resize_buf_.find('}', open);
    if (close == std::string::npos) break;
    const std::string object = resize_buf_.substr(open, close - open + 1);
    resize_buf_.erase(0, close + 1);
    auto j = nlohmann::json::parse(object, nullptr, false);
    if (!j.is_object()) continue;
    // Integers only: a string, a float or a huge number is no size (and
    // must neither throw here, in the event loop, nor be cast blindly).
    auto dimension = [&j](const char* key, const char* alt) -> int64_t {
      auto it = j.find(key);
      if (it == j.end()) it = j.find(alt);
      return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
    };
    const int64_t w = dimension("Width", "width"), h = dimension("Height", "height");
    if (w <= 0 || h <= 0 || w > 65535 || h > 65535) continue;
    if (io_) io_->resize(static_cast<uint16_t>(w), static_cast<uint16_t>(h));
    else pending_size_ = {static_cast<uint16_t>(w), static_cast<uint16_t>(h)};
  }
  if (resize_buf_.size() > kMaxResizeBuffer) resize_buf_.clear();
}

void RemoteCommand::end(const Outcome& o) {
  if (finished_) return;
  finished_ = true;
  if (!gone_ && client_.finish) client_.finish(o);
}

void RemoteCommand::client_gone() {
  gone_ = true;
  if (io_) {
    io_->close();
    io_.reset();
  }
  pending_stdin_.clear();
}

}  // namespace crius::streaming
