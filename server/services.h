// The two CRI services. Each RPC group is defined in its own source file
// (runtime_info.cpp, …); RPCs that later issues build are listed in
// unimplemented.h and answer UNIMPLEMENTED naming themselves.
//
// Include this before <csignal>/<sys/wait.h>: the CRI `Signal` enum has values
// named SIGKILL, SIGTERM… that those headers' macros would rewrite.
#pragma once

#include "server/config_store.h"
#include "server/proto/api.grpc.pb.h"
#include "server/rpc.h"
#include "server/unimplemented.h"

namespace crius::server {

namespace v1 = ::runtime::v1;

class RuntimeService final : public v1::RuntimeService::CallbackService {
 public:
  RuntimeService(ConfigStore& config, Rpc& rpc) : config_(config), rpc_(rpc) {}

  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext*, const v1::VersionRequest*,
                                    v1::VersionResponse*) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext*, const v1::StatusRequest*,
                                   v1::StatusResponse*) override;
  grpc::ServerUnaryReactor* RuntimeConfig(grpc::CallbackServerContext*, const v1::RuntimeConfigRequest*,
                                          v1::RuntimeConfigResponse*) override;

  CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED(CRIUS_DECLARE_UNARY)
  CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED_STREAMS(CRIUS_DECLARE_SERVER_STREAM)

 private:
  ConfigStore& config_;
  Rpc& rpc_;
};

class ImageService final : public v1::ImageService::CallbackService {
 public:
  ImageService(ConfigStore& config, Rpc& rpc) : config_(config), rpc_(rpc) {}

  CRIUS_IMAGE_SERVICE_UNIMPLEMENTED(CRIUS_DECLARE_UNARY)
  CRIUS_IMAGE_SERVICE_UNIMPLEMENTED_STREAMS(CRIUS_DECLARE_SERVER_STREAM)

 private:
  [[maybe_unused]] ConfigStore& config_;
  Rpc& rpc_;
};

}  // namespace crius::server
