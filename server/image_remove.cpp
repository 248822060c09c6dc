// RemoveImage: by ID, tag or digest; a tag shared with other tags only
// untags; an absent image is success.
#include "base/error.h"
#include "server/cri_validate.h"
#include "server/services.h"

namespace crius::server {

grpc::ServerUnaryReactor* ImageService::RemoveImage(grpc::CallbackServerContext* ctx, const v1::RemoveImageRequest* req,
                                                    v1::RemoveImageResponse*) {
  return rpc_.blocking(ctx, "RemoveImage", [this, req] {
    const std::string& what = req->image().image();
    if (what.empty()) throw InvalidArgument("RemoveImage: image is empty");
    check_image_ref(what, "image.image");
    images_.remove(what, config_.get()->image);
  });
}

}  // namespace crius::server
