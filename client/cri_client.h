// A connection to a running crius over its CRI socket, for the commands that
// ask the daemon rather than serve (crius status). Every call has a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/cri.grpc.pb.h"

namespace crius::client {

namespace v1 = runtime::v1;

// A call that failed: `unreachable` when no daemon answers on the socket
// (its message then names the socket), else the gRPC code and message.
class CallError : public std::runtime_error {
 public:
  CallError(grpc::StatusCode code, bool unreachable, const std::string& message)
      : std::runtime_error(message), code_(code), unreachable_(unreachable) {}
  grpc::StatusCode code() const { return code_; }
  bool unreachable() const { return unreachable_; }

 private:
  grpc::StatusCode code_;
  bool unreachable_;
};

class CriClient {
 public:
  explicit CriClient(std::string socket, std::chrono::seconds timeout = std::chrono::seconds(10));
  const std::string& socket() const { return socket_; }

  v1::VersionResponse version();
  v1::StatusResponse status(bool verbose);
  v1::RuntimeConfigResponse runtime_config();
  v1::ListPodSandboxResponse list_pods();
  v1::ListContainersResponse list_containers();
  v1::PodSandboxStatusResponse pod_status(const std::string& id, bool verbose);
  v1::ContainerStatusResponse container_status(const std::string& id, bool verbose);
  v1::ListImagesResponse list_images();
  v1::ImageFsInfoResponse image_fs_info();

 private:
  // Runs one unary call with the deadline; throws CallError naming `rpc`.
  template <class Stub, class Req, class Res>
  Res call(Stub& stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Res*), const Req& req,
           const char* name);

  std::string socket_;
  std::chrono::seconds timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> image_;
};

}  // namespace crius::client
