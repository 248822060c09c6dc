// A GetContainerEvents stream read for as long as it lives, as kubelet's
// evented PLEG holds one (an optional mode of the bench: a kubelet without
// that feature gate never subscribes, and a runtime must not pay for it).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "tests/bench/cri/harness.h"

namespace crius::bench::load {

class EventReader {
 public:
  explicit EventReader(CriDaemon& d);
  ~EventReader();  // cancels the stream and waits for the reader
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  long events() const { return events_; }
  // How the stream ended, when it ended before the destructor ("" while it runs).
  std::string ended() const;

 private:
  grpc::ClientContext ctx_;
  std::atomic<long> events_{0};
  std::atomic<bool> done_{false};
  std::string ended_;
  std::thread reader_;
};

}  // namespace crius::bench::load
