#include <string_view>
#include <utility>

#include "base/error.h"
#include "server/services.h"

namespace crius::server {
namespace {

// A server stream that ends at once with `status`, counted like any call.
template <class Response>
class FinishedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedStream(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// Why an RPC that will not be built here answers UNIMPLEMENTED; the rest
// are simply not built yet.
constexpr std::string_view kNoCriu =
    "checkpointing needs a CRIU that works on this kernel, and Debian 12's CRIU 3.17 fails `criu check` "
    "(its vDSO detection), so crius neither checkpoints nor restores";
constexpr std::pair<std::string_view, std::string_view> kWhyNot[] = {
    {"CheckpointContainer", kNoCriu},
    {"CheckpointPod", kNoCriu},
    {"RestorePod", kNoCriu},
};

Error not_built(const char* rpc) {
  for (const auto& [name, why] : kWhyNot)
    if (name == rpc) return Unimplemented(std::string(rpc) + " is unavailable: " + std::string(why));
  return Unimplemented(std::string(rpc) + " is not implemented yet in crius");
}

}  // namespace

#define CRIUS_DEFINE_UNIMPLEMENTED(Service, Rpc, Req, Res, dispatch)                                              \
  grpc::ServerUnaryReactor* Service::Rpc(grpc::CallbackServerContext* ctx, const ::runtime::v1::Req*,           \
                                         ::runtime::v1::Res*) {                                                 \
    return rpc_.dispatch(ctx, #Rpc, [] { throw not_built(#Rpc); });                                             \
  }
#define CRIUS_RUNTIME_UNIMPLEMENTED(Rpc, Req, Res, dispatch) \
  CRIUS_DEFINE_UNIMPLEMENTED(RuntimeService, Rpc, Req, Res, dispatch)
#define CRIUS_IMAGE_UNIMPLEMENTED(Rpc, Req, Res, dispatch) CRIUS_DEFINE_UNIMPLEMENTED(ImageService, Rpc, Req, Res, dispatch)
#define CRIUS_DEFINE_UNIMPLEMENTED_STREAM(Service, Rpc, Req, Res)                                      \
  grpc::ServerWriteReactor<::runtime::v1::Res>* Service::Rpc(grpc::CallbackServerContext*,             \
                                                             const ::runtime::v1::Req*) {              \
    return new FinishedStream<::runtime::v1::Res>(rpc_.run(#Rpc, [] { throw not_built(#Rpc); }));     \
  }
#define CRIUS_RUNTIME_UNIMPLEMENTED_STREAM(Rpc, Req, Res) CRIUS_DEFINE_UNIMPLEMENTED_STREAM(RuntimeService, Rpc, Req, Res)
#define CRIUS_IMAGE_UNIMPLEMENTED_STREAM(Rpc, Req, Res) CRIUS_DEFINE_UNIMPLEMENTED_STREAM(ImageService, Rpc, Req, Res)

CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED(CRIUS_RUNTIME_UNIMPLEMENTED)
CRIUS_RUNTIME_SERVICE_UNIMPLEMENTED_STREAMS(CRIUS_RUNTIME_UNIMPLEMENTED_STREAM)
CRIUS_IMAGE_SERVICE_UNIMPLEMENTED(CRIUS_IMAGE_UNIMPLEMENTED)
CRIUS_IMAGE_SERVICE_UNIMPLEMENTED_STREAMS(CRIUS_IMAGE_UNIMPLEMENTED_STREAM)

}  // namespace crius::server
