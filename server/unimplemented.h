// The CRI RPCs that later issues build. Each answers UNIMPLEMENTED with its
// own name; an issue that builds one deletes its line here and defines the
// RPC in the source file of its group. One that will not be built here
// (the checkpoint RPCs: no working CRIU) says why in unimplemented.cpp.
//
// X(Rpc, Request, Response, dispatch): dispatch is `fast` for calls that only
// read memory and `blocking` for calls that will do I/O, so that the thread
// they run on is already the right one.
#pragma once

#define CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED(X)                                              \
  X(CheckpointContainer, CheckpointContainerRequest, CheckpointContainerResponse, blocking) \
  X(CheckpointPod, CheckpointPodRequest, CheckpointPodResponse, blocking)                   \
  X(RestorePod, RestorePodRequest, RestorePodResponse, blocking)

// Server-streaming RPCs: X(Rpc, Request, StreamedResponse).
#define CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED_STREAMS(X)

#define CRIUS_IMAGE_SERVICE_UNIMPLEMENTED_STREAMS(X)

#define CRIUS_IMAGE_SERVICE_UNIMPLEMENTED(X)

#define CRIUS_DECLARE_UNARY(Rpc, Req, Res, dispatch)                                                   \
  grpc::ServerUnaryReactor* Rpc(grpc::CallbackServerContext* ctx, const ::runtime::v1::Req* request, \
                                ::runtime::v1::Res* response) override;

#define CRIUS_DECLARE_SERVER_STREAM(Rpc, Req, Res)                                                          \
  grpc::ServerWriteReactor<::runtime::v1::Res>* Rpc(grpc::CallbackServerContext* ctx,                      \
                                                    const ::runtime::v1::Req* request) override;
