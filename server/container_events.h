// GetContainerEvents: every subscriber gets every container event from the
// moment it subscribes, in order. Publishing never waits on a subscriber:
// each has a bounded queue, and one that falls that far behind is ended with
// RESOURCE_EXHAUSTED (and counted) rather than slowing the runtime. Events of
// a daemon's start (exits that happened while it was down) wait for the
// first subscriber, which is kubelet coming back; later ones without a
// subscriber go nowhere (kubelet without evented PLEG never subscribes).
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>
#include <set>

#include "api/cri.pb.h"
#include "container/containers.h"
#include "sandbox/sandboxes.h"
#include "server/metrics/registry.h"

namespace crius::server {

class ContainerEvents {
 public:
  static constexpr size_t kQueue = 4096;  // events a subscriber may be behind

  explicit ContainerEvents(metrics::Registry& metrics, size_t queue = kQueue) : metrics_(metrics), queue_(queue) {}

  void publish(const ::runtime::v1::ContainerEventResponse& event);
  // The daemon's start is over: what was published so far waits for the
  // first subscriber, nothing more does.
  void started();
  // A new stream, fed until the client goes away or falls behind.
  grpc::ServerWriteReactor<::runtime::v1::ContainerEventResponse>* subscribe();
  size_t subscribers() const;

 private:
  class Subscriber;
  void forget(Subscriber* s);

  metrics::Registry& metrics_;
  const size_t queue_;
  mutable std::mutex mu_;
  std::set<Subscriber*> subscribers_;
  bool subscribed_ever_ = false;
  bool started_ = false;
  std::deque<::runtime::v1::ContainerEventResponse> backlog_;  // before the first subscriber
};

// The CRI form of `event`: its pod's status and the statuses of all the
// pod's containers as they stand now.
::runtime::v1::ContainerEventResponse describe(const container::ContainerEvent& event, sandbox::Sandboxes& pods,
                                               const container::Containers& containers);

}  // namespace crius::server
