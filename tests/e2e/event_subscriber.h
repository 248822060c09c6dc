// A GetContainerEvents subscriber for the e2e tests.
#pragma once

// sandbox_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/sandbox_helpers.h"
//
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace crius::test {

// A GetContainerEvents stream read on a thread of its own into a list.
class Subscriber {
 public:
  explicit Subscriber(Daemon& d, bool read = true) : rt_(d.runtime()) {
    reader_ = rt_->GetContainerEvents(&ctx_, v1::GetEventsRequest());
    if (read) reading_ = std::thread([this] { drain(); });
  }
  ~Subscriber() {
    ctx_.TryCancel();
    if (reading_.joinable()) reading_.join();
  }
  // Reads everything now (for one that did not read on its own), until the end.
  grpc::Status drain() {
    v1::ContainerEventResponse e;
    while (reader_->Read(&e)) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    }
    auto s = reader_->Finish();
    std::lock_guard lock(mu_);
    status_ = s;
    return s;
  }
  // The event types seen for `id`, in order.
  std::vector<v1::ContainerEventType> of(const std::string& id) const {
    std::lock_guard lock(mu_);
    std::vector<v1::ContainerEventType> out;
    for (const auto& e : events_)
      if (e.container_id() == id) out.push_back(e.container_event_type());
    return out;
  }
  std::vector<v1::ContainerEventResponse> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::unique_ptr<v1::RuntimeService::Stub> rt_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::ContainerEventResponse>> reader_;
  mutable std::mutex mu_;
  std::vector<v1::ContainerEventResponse> events_;
  grpc::Status status_;
  std::thread reading_;
};

}  // namespace crius::test
