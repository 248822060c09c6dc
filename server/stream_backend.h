// The streaming server's view of the daemon: exec and attach through the
// pod's monitor (its stream ops), port-forward into the pod's network
// namespace.
#pragma once

#include "container/containers.h"
#include "sandbox/sandboxes.h"
#include "server/streaming/backend.h"

namespace crius::server {

class StreamBackend : public streaming::Backend {
 public:
  StreamBackend(container::Containers& containers, sandbox::Sandboxes& pods) : containers_(containers), pods_(pods) {}
  std::unique_ptr<streaming::ProcessIo> exec(const streaming::ExecRequest& r,
                                             boost::asio::any_io_executor io) override;
  std::unique_ptr<streaming::ProcessIo> attach(const streaming::AttachRequest& r,
                                               boost::asio::any_io_executor io) override;
  Fd connect(const std::string& pod_id, uint16_t port) override;

 private:
  container::Containers& containers_;
  sandbox::Sandboxes& pods_;
};

}  // namespace crius::server
