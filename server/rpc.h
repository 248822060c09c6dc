// The one path every CRI call takes: run the body (inline or on the work
// pool), turn a crius::Error into the matching gRPC status, count it in the
// metrics and log it. RPC files only say what to do.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
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
    reactor->Finish(run(name, body));
    return reactor;
  }

  // Runs `body` on the work pool and answers when it is done. For calls that
  // may block (disk, processes, network, timeouts).
  grpc::ServerUnaryReactor* blocking(grpc::CallbackServerContext* ctx, std::string_view name,
                                     std::function<void()> body) {
    auto* reactor = ctx->DefaultReactor();
    on_pool(name, [this, reactor, name, body = std::move(body)] { reactor->Finish(run(name, body)); });
    return reactor;
  }

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
  metrics::Registry& metrics_;
  WorkPool& pool_;
  const TestHooks& hooks_;
};

}  // namespace crius::server
