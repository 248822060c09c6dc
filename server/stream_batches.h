// The Stream* RPCs: a List answer cut into messages that each stay far
// below the 16 MiB that kubelet accepts, written one after another on a
// server stream. The items are gathered first (inline for memory-only lists,
// on the work pool for stats), so the stream itself never waits on the runtime.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "server/rpc.h"

namespace crius::server {

// Responses being filled, each closed once it holds kMaxBytes (an item is
// never split; one item is bounded by what kubelet could send us, far under
// the limit).
template <class Response>
class Batches {
 public:
  static constexpr size_t kMaxBytes = 4u << 20;

  // Adds an item through `adder` (&Response::add_items), filled by `fill`.
  template <class Item, class Fill>
  void add(Item* (Response::*adder)(), const Fill& fill) {
    if (list_.empty() || bytes_ >= kMaxBytes) {
      list_.emplace_back();
      bytes_ = 0;
    }
    Item* item = (list_.back().*adder)();
    fill(item);
    bytes_ += item->ByteSizeLong() + 8;  // with its tag and length
  }
  std::deque<Response> take() { return std::move(list_); }

 private:
  std::deque<Response> list_;
  size_t bytes_ = 0;
};

// Writes the batches one after another, then finishes with the status of
// gathering them. A client that goes away ends the stream.
template <class Response>
class BatchWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  using Fill = std::function<void(Batches<Response>&)>;

  // Gathers with `fill` now (it reads memory only), then writes.
  static BatchWriter* fast(Rpc& rpc, std::string_view name, const Fill& fill) {
    auto* w = new BatchWriter(name);
    w->gather(rpc, fill);
    return w;
  }
  // Gathers with `fill` on the work pool (it reads files), then writes.
  static BatchWriter* blocking(Rpc& rpc, std::string_view name, Fill fill) {
    auto* w = new BatchWriter(name);
    rpc.on_pool(name, [w, &rpc, fill = std::move(fill)] { w->gather(rpc, fill); });
    return w;
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, name_ + ": the client went away"));
      return;
    }
    batches_.pop_front();
    next();
  }
  void OnDone() override { delete this; }

 private:
  explicit BatchWriter(std::string_view name) : name_(name) {}

  void gather(Rpc& rpc, const Fill& fill) {
    Batches<Response> batches;
    status_ = rpc.run(name_, [&] { fill(batches); });
    batches_ = batches.take();
    next();
  }
  void next() {
    if (!status_.ok() || batches_.empty()) {
      this->Finish(status_);
      return;
    }
    this->StartWrite(&batches_.front());
  }

  std::string name_;
  std::deque<Response> batches_;
  grpc::Status status_;
};

}  // namespace crius::server
