#include "client/cri_client.h"

namespace crius::client {

CriClient::CriClient(std::string socket, std::chrono::seconds timeout)
    : socket_(std::move(socket)), timeout_(timeout) {
  grpc::ChannelArguments args;
  // As large as the daemon sends (and kubelet takes): a busy node's lists.
  args.SetMaxReceiveMessageSize(16 << 20);
  channel_ = grpc::CreateCustomChannel("unix://" + socket_, grpc::InsecureChannelCredentials(), args);
  runtime_ = v1::RuntimeService::NewStub(channel_);
  image_ = v1::ImageService::NewStub(channel_);
}

template <class Stub, class Req, class Res>
Res CriClient::call(Stub& stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Res*), const Req& req,
                    const char* name) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  Res res;
  const grpc::Status s = (stub.*rpc)(&ctx, req, &res);
  if (s.ok()) return res;
  // No listener on the socket (or no socket) fails fast with UNAVAILABLE; a
  // daemon that never answers ends at the deadline.
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
    throw CallError(s.error_code(), true,
                    "cannot reach the crius daemon at " + socket_ + " (is it running?): " + s.error_message());
  throw CallError(s.error_code(), false, std::string(name) + ": " + s.error_message());
}

v1::VersionResponse CriClient::version() {
  return call(*runtime_, &v1::RuntimeService::Stub::Version, v1::VersionRequest(), "Version");
}

v1::StatusResponse CriClient::status(bool verbose) {
  v1::StatusRequest req;
  req.set_verbose(verbose);
  return call(*runtime_, &v1::RuntimeService::Stub::Status, req, "Status");
}

v1::RuntimeConfigResponse CriClient::runtime_config() {
  return call(*runtime_, &v1::RuntimeService::Stub::RuntimeConfig, v1::RuntimeConfigRequest(), "RuntimeConfig");
}

v1::ListPodSandboxResponse CriClient::list_pods() {
  return call(*runtime_, &v1::RuntimeService::Stub::ListPodSandbox, v1::ListPodSandboxRequest(), "ListPodSandbox");
}

v1::ListContainersResponse CriClient::list_containers() {
  return call(*runtime_, &v1::RuntimeService::Stub::ListContainers, v1::ListContainersRequest(), "ListContainers");
}

v1::PodSandboxStatusResponse CriClient::pod_status(const std::string& id, bool verbose) {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  req.set_verbose(verbose);
  return call(*runtime_, &v1::RuntimeService::Stub::PodSandboxStatus, req, "PodSandboxStatus");
}

v1::ContainerStatusResponse CriClient::container_status(const std::string& id, bool verbose) {
  v1::ContainerStatusRequest req;
  req.set_container_id(id);
  req.set_verbose(verbose);
  return call(*runtime_, &v1::RuntimeService::Stub::ContainerStatus, req, "ContainerStatus");
}

v1::ListImagesResponse CriClient::list_images() {
  return call(*image_, &v1::ImageService::Stub::ListImages, v1::ListImagesRequest(), "ListImages");
}

v1::ImageFsInfoResponse CriClient::image_fs_info() {
  return call(*image_, &v1::ImageService::Stub::ImageFsInfo, v1::ImageFsInfoRequest(), "ImageFsInfo");
}

}  // namespace crius::client
