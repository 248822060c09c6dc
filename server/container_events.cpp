#include "server/container_events.h"

#include <optional>

#include "base/error.h"
#include "server/container_convert.h"
#include "server/sandbox_convert.h"
#include "server/services.h"

namespace crius::server {

namespace v1 = ::runtime::v1;

// One stream. Its own lock orders writes; gRPC is called with no lock held.
class ContainerEvents::Subscriber final : public grpc::ServerWriteReactor<v1::ContainerEventResponse> {
 public:
  Subscriber(ContainerEvents& hub, std::deque<v1::ContainerEventResponse> first) : hub_(hub) {
    for (auto& e : first) push(std::move(e));
  }

  // Queues an event; false when the queue was full and the stream is ended.
  bool push(v1::ContainerEventResponse event) {
    const v1::ContainerEventResponse* write = nullptr;
    std::optional<grpc::Status> finish;
    bool overflow = false;
    {
      std::lock_guard lock(mu_);
      if (ending_) return true;
      if (queue_.size() >= hub_.queue_) {
        overflow = true;
        finish = end(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                  "GetContainerEvents: the subscriber fell " + std::to_string(hub_.queue_) +
                                      " events behind and was ended; subscribe again and relist"));
      } else {
        queue_.push_back(std::move(event));
        if (!writing_) {
          writing_ = true;
          write = &queue_.front();
        }
      }
    }
    if (write) StartWrite(write);
    if (finish) Finish(*finish);
    return !overflow;
  }

  void OnWriteDone(bool ok) override {
    const v1::ContainerEventResponse* write = nullptr;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok && !ending_) {
        ending_ = true;
        finish = grpc::Status(grpc::StatusCode::UNAVAILABLE, "GetContainerEvents: the client went away");
      } else if (pending_) {
        finish = std::move(pending_);
        pending_.reset();
      } else if (!ending_ && !queue_.empty()) {
        writing_ = true;
        write = &queue_.front();
      }
    }
    if (write) StartWrite(write);
    if (finish) Finish(*finish);
  }

  void OnCancel() override {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(mu_);
      if (!ending_) finish = end(grpc::Status::CANCELLED);
    }
    if (finish) Finish(*finish);
  }

  void OnDone() override {
    hub_.forget(this);
    delete this;
  }

 private:
  // Ends the stream: now (the status to Finish with) or after the write in flight.
  std::optional<grpc::Status> end(grpc::Status status) {
    ending_ = true;
    if (!writing_) return status;
    pending_ = std::move(status);
    return std::nullopt;
  }

  ContainerEvents& hub_;
  std::mutex mu_;
  std::deque<v1::ContainerEventResponse> queue_;  // front: the write in flight
  bool writing_ = false, ending_ = false;
  std::optional<grpc::Status> pending_;
};

void ContainerEvents::publish(const v1::ContainerEventResponse& event) {
  std::lock_guard lock(mu_);
  if (!subscribed_ever_) {
    if (started_) return;
    if (backlog_.size() >= queue_) backlog_.pop_front();
    backlog_.push_back(event);
    return;
  }
  for (Subscriber* s : subscribers_)
    if (!s->push(event)) metrics_.add_container_events_dropped();
}

void ContainerEvents::started() {
  std::lock_guard lock(mu_);
  started_ = true;
}

grpc::ServerWriteReactor<v1::ContainerEventResponse>* ContainerEvents::subscribe() {
  std::lock_guard lock(mu_);
  subscribed_ever_ = true;
  auto* s = new Subscriber(*this, std::exchange(backlog_, {}));
  subscribers_.insert(s);
  return s;
}

size_t ContainerEvents::subscribers() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

v1::ContainerEventResponse describe(const container::ContainerEvent& event, sandbox::Sandboxes& pods,
                                   const container::Containers& containers) {
  v1::ContainerEventResponse out;
  out.set_container_id(event.container_id);
  out.set_container_event_type(static_cast<v1::ContainerEventType>(event.kind));
  out.set_created_at(event.at);
  try {
    to_status(pods.get(event.pod_id), out.mutable_pod_sandbox_status());
  } catch (const Error&) {
    // The pod is gone already (its last container's deletion): no status.
  }
  for (const auto& c : containers.peek(event.pod_id)) to_status(c, out.add_containers_statuses());
  return out;
}

void ContainerEvents::forget(Subscriber* s) {
  std::lock_guard lock(mu_);
  subscribers_.erase(s);
}

grpc::ServerWriteReactor<v1::ContainerEventResponse>* RuntimeService::GetContainerEvents(grpc::CallbackServerContext*,
                                                                                       const v1::GetEventsRequest*) {
  rpc_.run("GetContainerEvents", [] {});  // counted like any call; the stream itself never fails
  return events_.subscribe();
}

}  // namespace crius::server
