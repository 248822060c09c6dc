// The streaming server: the HTTP endpoint behind the URLs that Exec, Attach
// and PortForward return. A client (kubelet's streaming proxy, crictl,
// kubectl through the API server) connects to the URL and upgrades the
// connection to SPDY/3.1 or to a WebSocket; the session then runs the
// Kubernetes remotecommand or portforward protocol over it.
//
//   streaming::Server s({.address = "127.0.0.1", .port = 0}, backend);
//   std::string url = s.url(ExecRequest{...});   // http://127.0.0.1:PORT/exec/<token>
//
// One io thread serves every session; the backend's blocking calls run on a
// small pool beside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "server/streaming/backend.h"
#include "server/streaming/requests.h"

namespace crius::streaming {

struct ServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;                      // 0: a free port
  std::string tls_cert, tls_key;     // both set: https
  std::chrono::seconds idle_timeout{0};  // 0: none
  size_t max_sessions = 512;         // past it: 429
  std::chrono::seconds stream_creation_timeout{30};
  std::chrono::milliseconds token_ttl{std::chrono::minutes(1)};
};

class Server {
 public:
  // Binds at once; throws crius::Error naming the address on failure.
  Server(const ServerOptions& o, Backend& backend);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // A new single-use URL for r.
  std::string url(Request r);
  uint16_t port() const;
  // Sessions running now (for tests and metrics).
  size_t sessions() const;
  // The same by kind: "exec", "attach", "portforward".
  std::map<std::string, size_t> sessions_by_kind() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace crius::streaming
