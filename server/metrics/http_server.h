// Serves GET /metrics over HTTP/1.1 on its own thread (Boost.Beast), so that a
// scrape never competes with CRI calls for gRPC threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace crius::metrics {

class HttpServer {
 public:
  // Binds host:port at once (throws std::runtime_error naming the address on
  // failure) and serves `render()` at /metrics until destroyed.
  HttpServer(const std::string& address, std::function<std::string()> render);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound, e.g. "127.0.0.1:9090" (useful with port 0).
  std::string bound_address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace crius::metrics
