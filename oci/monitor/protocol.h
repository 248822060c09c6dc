// The wire protocol between the daemon and a pod's crius-monitor, over the
// unix socket <dir>/monitor.sock (mode 0600, root only).
//
// Framing. A message is a 4-byte big-endian length N followed by N bytes of
// CBOR (RFC 8949) encoding one map. CBOR rather than JSON text because
// container output is arbitrary bytes: it travels as CBOR byte strings,
// never inside a text string. N is at most kMaxMessage.
//
// Requests and responses. The client sends {"op": <name>, …} and reads one
// response per request, in order: {"ok": true, …} or {"ok": false,
// "code": <crius::ErrorCode name, e.g. "not_found">, "message": <text>}.
// A connection may carry any number of requests. Every connection may start
// with "hello"; a client that knows the version may skip it.
//
// Ops of version 1 unless marked:
//   hello      {version}                         → {version, pid}
//   create     {id, bundle, log_path, log_size_max, tty, stdin, stdin_once}
//                                                → {pid}
//   start      {id}                              → {}
//   kill       {id, signal, all}                 → {}
//   remove     {id}                              → {}  (unknown id: ok)
//   status     {id}                              → {container}
//   list       {}                                → {containers: [container…]}
//   exec_sync  {id, process (OCI process object), timeout_ms (0: none),
//               output_cap}                      → {exit_code, stdout (bytes),
//                                                   stderr (bytes), timed_out}
//   reopen_log {id}                              → {}
//   update     {id, resources (OCI linux.resources object; only the fields
//               given change)}                   → {}  (version 2)
//   shutdown   {}                                → {} then the monitor exits
//   exec       {id, process (OCI process object), tty, stdin}
//                                                → {pid} then a stream (version 3)
//   attach     {id, stdin}                       → {tty} then a stream (version 3)
//
//   container = {id, pid, status, created_at, started_at,
//                exit?: {exit_code, signal, finished_at, oom_killed}}
//
// exec_sync is answered when the process has exited and its output has been
// drained; other requests on other connections are served meanwhile.
//
// Streams. After the ok response to exec or attach, the connection carries
// stream frames in both directions instead of messages: 1 channel byte, a
// 4-byte big-endian length, the payload (at most kMaxFrame bytes; a bigger
// frame or an unknown channel closes the connection). Channels:
//   0 stdin   client → monitor; an empty payload closes the stdin (an
//             exec's pipe; an attached container's with stdin_once; a
//             terminal is not closed: EOF there is the ^D the user types)
//   1 stdout  monitor → client (with a tty: the terminal's output)
//   2 stderr  monitor → client (never with a tty)
//   3 resize  client → monitor, CBOR {width, height}; ignored without a tty
//   4 exit    monitor → client, CBOR {exit_code} (128+signal when killed),
//             the last frame: the monitor closes the connection after it.
// exec: the process's stdio is on the stream (a pty with tty; pipes and,
// when stdin is asked for, a stdin pipe otherwise); its output is read only
// while the client keeps up (1 MiB in flight), so a slow client slows the
// process as a terminal would. When the client goes
// away first, the process's stdin and terminal are closed, its process
// group gets SIGHUP, and SIGKILL 2 s later if it is still there.
// attach: every attached client gets a copy of the container's output (the
// CRI log is written as before); stdin frames reach the container's stdin
// when it was created with stdin and the client asked for it (else they are
// dropped). A client that falls behind by more than 4 MiB is
// disconnected: a container's output is never held up for a client.
//
// Reserved (not served yet):
//   port_forward {port}                 → {} with an fd of a socket connected
//                                         in the pod's network namespace, sent
//                                         with SCM_RIGHTS alongside the response
// A new op is added with a new version; a monitor answers an op it does not
// know with code "unimplemented", so an older monitor is detected cleanly,
// and a client can refuse early from the version hello returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fd.h"

namespace crius::oci::monitor::protocol {

inline constexpr int kVersion = 3;
// The first version that serves "update".
inline constexpr int kUpdateVersion = 2;
// The first version that serves "exec" and "attach" streams.
inline constexpr int kStreamVersion = 3;
// The largest stream frame payload either side sends or accepts.
inline constexpr uint32_t kMaxFrame = 1u << 20;
// Two capped output streams plus headroom.
inline constexpr uint32_t kMaxMessage = 80u << 20;
inline constexpr const char* kSocketName = "monitor.sock";
// Held (flock) by the monitor of a directory for its life, and holding its
// pid: a monitor that does not answer on its socket can still be found.
inline constexpr const char* kLockName = "monitor.lock";

enum class Channel : uint8_t { stdin = 0, stdout = 1, stderr = 2, resize = 3, exit = 4 };

// The frame for one message: length prefix + CBOR.
std::string encode(const nlohmann::json& message);
// Decodes one CBOR body (without the prefix). InvalidArgument when malformed.
nlohmann::json decode(std::string_view body);
// The length announced by a 4-byte prefix.
uint32_t frame_length(const unsigned char* prefix);

// Stream frames (see above).
struct Frame {
  Channel channel = Channel::stdout;
  std::string payload;
};
// Appends one frame to out. InvalidArgument when the payload exceeds kMaxFrame.
void append_frame(std::string& out, Channel channel, std::string_view payload);
std::string encode_frame(Channel channel, std::string_view payload);
// The payloads of the resize and exit frames.
std::string resize_payload(unsigned width, unsigned height);
std::string exit_payload(int exit_code);

// Cuts a byte stream into frames as it arrives. next() throws
// InvalidArgument for a frame longer than max_payload or an unknown
// channel; the stream is unusable after that.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_payload = kMaxFrame) : max_(max_payload) {}
  void feed(std::string_view data) { buf_.append(data); }
  // The next complete frame; nullopt while none is complete.
  std::optional<Frame> next();
  // Bytes received and not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  uint32_t max_;
  std::string buf_;
  size_t pos_ = 0;  // start of the first unread frame in buf_
};

// Error responses and their mapping back to crius::Error.
nlohmann::json error_response(const crius::Error& e);
nlohmann::json error_response(ErrorCode code, const std::string& message);
std::string code_name(ErrorCode code);
ErrorCode code_from_name(const std::string& name);

// A unix socket path that fits sockaddr_un (108 bytes): the path itself when
// short enough, else /proc/<pid>/fd/<fd>/<name> through an O_PATH fd of its
// directory, which this object keeps open. A pod's run directory can be long
// (a private state root plus a 64-hex pod ID). Another process of the same
// user can use the short form while this object lives (runc connecting to a
// console socket).
class SocketPath {
 public:
  explicit SocketPath(const std::string& path);
  SocketPath(const SocketPath&) = delete;
  SocketPath& operator=(const SocketPath&) = delete;
  const std::string& get() const { return short_; }
  // Fills addr with the path; returns the length to pass to bind/connect.
  unsigned fill(void* sockaddr_un) const;

 private:
  std::string short_;
  Fd dir_;
};

// Raw bytes as a CBOR byte string, and back.
nlohmann::json bytes(std::string_view data);
std::string bytes_of(const nlohmann::json& value);

}  // namespace crius::oci::monitor::protocol
