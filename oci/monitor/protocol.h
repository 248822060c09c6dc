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
//
//   container = {id, pid, status, created_at, started_at,
//                exit?: {exit_code, signal, finished_at, oom_killed}}
//
// exec_sync is answered when the process has exited and its output has been
// drained; other requests on other connections are served meanwhile.
//
// Reserved for the streaming issue (not served by versions 1 and 2):
//   attach       {id}                   → {} then the connection is a stream
//   exec         {id, process, tty, stdin} → {pid} then a stream
//   port_forward {port}                 → {} with an fd of a socket connected
//                                         in the pod's network namespace, sent
//                                         with SCM_RIGHTS alongside the response
// After the ok response to attach/exec, the connection carries stream
// frames in both directions instead of messages: 1 channel byte, a 4-byte
// big-endian length, the payload. Channels: 0 stdin (client → monitor; an
// empty payload closes stdin), 1 stdout, 2 stderr, 3 resize (CBOR {width,
// height}), 4 exit (monitor → client, CBOR {exit_code}, last frame).
// A new op is added with a new version; a monitor answers an op it does not
// know with code "unimplemented", so an older monitor is detected cleanly,
// and a client can refuse early from the version hello returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fd.h"

namespace crius::oci::monitor::protocol {

inline constexpr int kVersion = 2;
// The first version that serves "update".
inline constexpr int kUpdateVersion = 2;
// Two capped output streams plus headroom.
inline constexpr uint32_t kMaxMessage = 80u << 20;
inline constexpr const char* kSocketName = "monitor.sock";

enum class Channel : uint8_t { stdin = 0, stdout = 1, stderr = 2, resize = 3, exit = 4 };

// The frame for one message: length prefix + CBOR.
std::string encode(const nlohmann::json& message);
// Decodes one CBOR body (without the prefix). InvalidArgument when malformed.
nlohmann::json decode(std::string_view body);
// The length announced by a 4-byte prefix.
uint32_t frame_length(const unsigned char* prefix);

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
