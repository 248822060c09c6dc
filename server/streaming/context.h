// What every session of the server shares: the io executor, the pool for
// the backend's blocking calls, the options, and the count of sessions.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "server/streaming/backend.h"
#include "server/streaming/server.h"

namespace crius::streaming {

namespace spdy {
class Session;
}

struct Context {
  boost::asio::any_io_executor io;
  boost::asio::thread_pool* pool;
  Backend* backend;
  ServerOptions opts;
  std::atomic<size_t> sessions{0};
  std::atomic<size_t> sessions_by_kind[3] = {0, 0, 0};  // by Request's index: exec, attach, port-forward
  // The SPDY sessions made (io thread only), for ~Server to release those
  // still open: a session and its handler hold each other until it ends.
  std::vector<std::weak_ptr<spdy::Session>> spdy_sessions;

  // Runs work() on the pool, then done(result, error text) on the io thread.
  template <class T>
  void blocking(std::function<T()> work, std::function<void(T, std::string)> done) {
    boost::asio::post(*pool, [io = io, work = std::move(work), done = std::move(done)]() mutable {
      T result{};
      std::string error;
      try {
        result = work();
      } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown error";
      }
      boost::asio::post(io, [done = std::move(done), result = std::move(result), error = std::move(error)]() mutable {
        done(std::move(result), std::move(error));
      });
    });
  }
};

static_assert(std::variant_size_v<Request> == 3, "sessions_by_kind has one count per kind of request");

// Held by a session while it runs: the count the 429 answer is based on.
class SessionSlot {
 public:
  SessionSlot(std::shared_ptr<Context> c, size_t kind) : c_(std::move(c)), kind_(kind) {
    ++c_->sessions;
    ++c_->sessions_by_kind[kind_];
  }
  ~SessionSlot() {
    --c_->sessions_by_kind[kind_];
    --c_->sessions;
  }
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;

 private:
  std::shared_ptr<Context> c_;
  size_t kind_;
};

}  // namespace crius::streaming
