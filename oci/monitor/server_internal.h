// The monitor process's state (see server.h), shared by server.cpp (setup,
// the loop, signals, reaping, connections, the op table) and the op
// handlers: ops_container.cpp (create … remove, and container exits),
// ops_exec.cpp (exec_sync), ops_stream.cpp (exec and attach streams) and
// stdin_sink.cpp (writing to a process's stdin).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "oci/monitor/client.h"
#include "oci/monitor/connection.h"
#include "oci/monitor/idle_trim.h"
#include "oci/monitor/log_writer.h"
#include "oci/monitor/oom.h"
#include "oci/monitor/protocol.h"
#include "oci/monitor/runtime_handler.h"
#include "oci/monitor/server.h"
#include "oci/monitor/watch.h"

namespace crius::oci::monitor::detail {

// What is drained at once when a process exits: more than any pipe buffer,
// bounded because a leftover process may keep the pipe open and writing.
inline constexpr size_t kExitDrain = 16 << 20;
// Output of a streamed exec in flight to its client above which the
// process's output is no longer read (the process blocks, as on a terminal).
inline constexpr size_t kStreamOutputCap = 1 << 20;
// Stdin not yet taken by a process above which its clients are not read.
inline constexpr size_t kStdinBacklogCap = 1 << 20;
// Output an attach client may fall behind by before it is disconnected.
inline constexpr size_t kAttachBacklogCap = 4 << 20;
// From SIGHUP to SIGKILL for an exec whose client went away.
inline constexpr int kHangupGraceMs = 2000;

// Non-blocking writes to a process's stdin (a pipe, or a dup of a pty
// master), keeping what it has not taken yet; watched for EPOLLOUT only
// while that backlog is not empty.
struct StdinSink : Watch {
  Fd fd;
  std::string backlog;
  bool watched = false;
  bool close_when_empty = false;  // EOF was asked for with a backlog pending
  bool broken = false;            // the reader is gone: data is dropped
  std::vector<uint64_t> waiting;  // connections not read until the backlog shrinks
  std::function<void()> on_ready;
  void on_event(uint32_t) override { on_ready(); }
};

// A container of the pod, from create to remove.
struct Ctr {
  std::string id;
  pid_t pid = 0;
  std::string status = "created";
  int64_t created_at = 0, started_at = 0;
  std::optional<ExitInfo> exit;
  std::unique_ptr<LogFile> log;
  std::unique_ptr<LogStream> out_log, err_log;
  std::unique_ptr<OutputPipe> out, err;
  Fd stdin_w;  // until the first attach with stdin moves it into `in`
  std::unique_ptr<StdinSink> in;
  bool tty = false, stdin = false, stdin_once = false;
  bool stdin_closed = false;  // by stdin_once: no attach gets stdin any more
  std::vector<uint64_t> attached;  // connections of attach clients
  std::optional<OomCounter> oom;
};

// An exec_sync in progress: answered on its connection when it exits.
struct Exec {
  uint64_t conn_id = 0;
  pid_t pid = 0;
  size_t cap = 0;
  std::unique_ptr<OutputPipe> out, err;
  std::unique_ptr<Timer> timer;
  std::string out_data, err_data;
  bool timed_out = false;
};

// An exec streamed on its connection (op "exec"), from start to reaping.
struct StreamExec {
  uint64_t conn_id = 0;  // 0 once the client has gone
  pid_t pid = 0;
  std::string ctr_id;
  bool tty = false;
  bool exited = false;
  bool paused = false;  // output not watched: the client's buffer is full
  std::unique_ptr<OutputPipe> out, err;  // out is the pty master with a tty
  std::unique_ptr<StdinSink> in;         // none without stdin
  std::unique_ptr<Timer> kill_timer;     // SIGKILL once the client has gone
};

// The string field `key` of a request; InvalidArgument when missing.
std::string required_string(const nlohmann::json& req, const char* key);

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& o);
  int run();

 private:
  // server.cpp: setup and the loop.
  void setup();
  void report_ready(const std::string& text);
  void add(Watch* w, int fd, uint32_t events);
  void unwatch(int fd);
  template <typename T>
  void retire(std::unique_ptr<T>& w) {
    if (!w) return;
    w->retired = true;
    graveyard_.push_back(std::move(w));
  }
  void on_signal();
  void reap();
  void on_reaped(pid_t pid, int status);

  // server.cpp: connections and the op table.
  void on_accept();
  void on_conn(Connection* c, uint32_t ev);
  void serve(Connection* c);
  void close_conn(Connection* c);
  void send(Connection* c, const nlohmann::json& msg);
  void flush_conn(Connection* c);
  void dispatch(Connection* c, const nlohmann::json& req);
  nlohmann::json handle(Connection* c, const nlohmann::json& req, bool* async);
  nlohmann::json op_shutdown();

  // ops_container.cpp
  Ctr& get(const std::string& id);
  nlohmann::json info(const Ctr& c) const;
  nlohmann::json op_create(const nlohmann::json& req);
  void watch_output(Ctr& c, std::unique_ptr<OutputPipe>& p, LogStream* s);
  nlohmann::json op_start(const nlohmann::json& req);
  nlohmann::json op_kill(const nlohmann::json& req);
  nlohmann::json op_update(const nlohmann::json& req);
  nlohmann::json op_reopen_log(const nlohmann::json& req);
  void op_remove(const std::string& id);
  void on_container_exit(Ctr& c, int status);

  // ops_exec.cpp
  void op_exec_sync(Connection* c, const nlohmann::json& req);
  void on_exec_exit(Exec& e, int status);

  // ops_stream.cpp
  nlohmann::json op_exec(Connection* c, const nlohmann::json& req);
  void exec_frame(StreamExec& e, const protocol::Frame& f);
  void exec_output(StreamExec& e, protocol::Channel ch, const char* d, size_t n);
  void pause_exec(StreamExec& e, bool pause);
  void exec_client_gone(StreamExec& e);
  void on_stream_exec_exit(StreamExec& e, int status);
  nlohmann::json op_attach(Connection* c, const nlohmann::json& req);
  void attach_frame(const std::string& id, uint64_t conn_id, bool with_stdin, const protocol::Frame& f);
  void detach(const std::string& id, uint64_t conn_id, bool with_stdin);
  void attach_output(Ctr& c, protocol::Channel ch, const char* d, size_t n);
  // Ends every attach of the container: the exit frame when it has exited.
  void detach_all(Ctr& c);
  void serve_frames(Connection* c);
  // Writes what the socket takes and re-arms it; a failed write is left to
  // the socket's error event (never closes it from inside a data callback).
  void push(Connection* c);
  void rearm(Connection* c);

  // stdin_sink.cpp
  std::unique_ptr<StdinSink> make_sink(Fd fd, const std::string& what);
  // Writes data (from connection `from`, which stops being read while the
  // backlog is above kStdinBacklogCap).
  void sink_write(StdinSink& s, std::string_view data, Connection* from);
  // EOF: closed now, or once the backlog is written.
  void sink_close(std::unique_ptr<StdinSink>& s);
  void sink_ready(StdinSink& s);
  void sink_drop(std::unique_ptr<StdinSink>& s);

  MonitorOptions o_;
  Fd ready_;  // o_.ready_fd until the setup is reported
  std::unique_ptr<RuntimeHandler> handler_;
  Fd epoll_, sigfd_, listen_, lock_;
  Callback sig_watch_, listen_watch_;
  std::map<std::string, std::unique_ptr<Ctr>> ctrs_;
  std::map<pid_t, std::unique_ptr<Exec>> execs_;
  std::map<pid_t, std::unique_ptr<StreamExec>> stream_execs_;
  std::map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::vector<std::unique_ptr<Watch>> graveyard_;
  uint64_t next_conn_ = 1;
  bool exit_when_empty_ = false;
  bool exit_now_ = false;
  std::string socket_path_;
  IdleTrim trim_;
  // Exits reaped by the runtime handler while it waited, not yet handled.
  std::vector<std::pair<pid_t, int>> reaped_;
};

}  // namespace crius::oci::monitor::detail
