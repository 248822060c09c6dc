// The one path every CRI call takes: run the body (inline or on the work
// pool), turn a crius::Error into the matching gRPC status, count it in the
// metrics and log it. RPC files only say what to do.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>

#include "server/metrics/registry.h"
#include "server/test_hooks.h"
#include "server/work_pool.h"

namespace crius::server {

// The gRPC code's canonical name as Go's codes.Code prints it ("NotFound").
std::string_view code_name(grpc::StatusCode);

class Rpc {
 public:
  Rpc(metrics::Registry& metrics, WorkPool& pool, const TestHooks& hooks)
      : metrics_(metrics), pool_(pool), hooks_(hooks) {}

  // Runs `body` now and answers. For calls that only read memory.
  grpc::ServerUnaryReactor* fast(grpc::CallbackServerContext* ctx, std::string_view name,
                                 const std::function<void()>& body) {
    auto* reactor = ctx->DefaultReactor();
    if (!enter()) {
      reactor->Finish(refused(name));
      return reactor;
    }
    reactor->Finish(run(name, body));
    leave();
    return reactor;
  }

  // Runs `body` on the work pool and answers when it is done. For calls that
  // may block (disk, processes, network, timeouts).
  grpc::ServerUnaryReactor* blocking(grpc::CallbackServerContext* ctx, std::string_view name,
                                     std::function<void()> body) {
    auto* reactor = ctx->DefaultReactor();
    if (!enter()) {
      reactor->Finish(refused(name));
      return reactor;
    }
    on_pool(name, [this, reactor, name, body = std::move(body)] {
      reactor->Finish(run(name, body));
      leave();
    });
    return reactor;
  }

  // Shutdown: unary calls from now on are answered Unavailable, and
  // wait_idle() waits (until `deadline`) for those in flight to be answered;
  // true when they all were. gRPC's own Shutdown waits out its whole
  // deadline while any client keeps a connection open (kubelet always
  // does), so the daemon drains here and then gives gRPC only the moment
  // it needs to send the last answers.
  void drain();
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

  // Runs `work` on the work pool (held first when a test asks to hold `name`).
  void on_pool(std::string_view name, std::function<void()> work) {
    pool_.post([this, name, work = std::move(work)] {
      hooks_.maybe_hold(name);
      work();
    });
  }

  // The status for `body`'s outcome, counted and logged under `name`.
  grpc::Status run(std::string_view name, const std::function<void()>& body);

 private:
  bool enter();  // false once draining: the call is refused
  void leave();
  grpc::Status refused(std::string_view name);

  metrics::Registry& metrics_;
  WorkPool& pool_;
  const TestHooks& hooks_;
  std::mutex flight_mu_;
  std::condition_variable flight_cv_;
  int in_flight_ = 0;
  bool draining_ = false;
};

}  // namespace crius::server
