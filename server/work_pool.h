// The threads that run blocking CRI work (pulls, stops with a grace period,
// ExecSync…). Fast RPCs answer on gRPC's own callback threads and never queue
// behind this pool, which is what keeps Version/Status/List* prompt while a
// slow call is in progress.
#pragma once

#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <utility>

namespace crius::server {

class WorkPool {
 public:
  explicit WorkPool(std::size_t threads) : pool_(threads) {}
  ~WorkPool() { pool_.join(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  template <class F>
  void post(F&& f) {
    boost::asio::post(pool_, std::forward<F>(f));
  }

  // Waits for queued and running work; used at shutdown.
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace crius::server
