// The remotecommand protocol's core (exec and attach), whatever carries it:
// starts the process through the backend, relays stdin, output and resize
// events, and ends with the status on the error stream. spdy_remote_command
// and ws_remote_command map their streams or channels onto it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/streaming/backend.h"
#include "server/streaming/context.h"
#include "server/streaming/requests.h"
#include "server/streaming/status.h"

namespace crius::streaming {

class RemoteCommand : public std::enable_shared_from_this<RemoteCommand> {
 public:
  // How output reaches the client.
  struct Client {
    using Write = std::function<void(std::string, std::function<void(bool)>)>;
    Write stdout_w, stderr_w;                 // empty when not asked for
    std::function<void(const Outcome&)> finish;  // status, then end the output
  };
  RemoteCommand(std::shared_ptr<Context> ctx, Request r, Client c);
  ~RemoteCommand();

  // Starts the process (all of the client's streams are there).
  void begin();
  void stdin_data(std::string data, std::function<void()> consumed);
  void stdin_closed();
  // Bytes of the resize stream: JSON objects {"Width":…,"Height":…}.
  void resize_data(std::string_view data);
  // The client went away: the process is hung up on, nothing more is sent.
  void client_gone();
  bool finished() const { return finished_; }

 private:
  void started(std::unique_ptr<ProcessIo> io, const std::string& error);
  void end(const Outcome& o);
  void output(const Client::Write& w, std::string_view data);
  void flush_stdin();

  std::shared_ptr<Context> ctx_;
  Request request_;
  Client client_;
  std::unique_ptr<ProcessIo> io_;
  bool begun_ = false, finished_ = false, gone_ = false;
  // Input that arrived before the process was there.
  std::deque<std::pair<std::string, std::function<void()>>> pending_stdin_;
  bool stdin_closed_ = false;
  std::optional<std::pair<uint16_t, uint16_t>> pending_size_;
  std::string resize_buf_;
};

}  // namespace crius::streaming
