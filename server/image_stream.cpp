// StreamImages: the ListImages answer delivered in batches over a server
// stream, for nodes with more images than one message should carry.
#include "server/image_convert.h"
#include "server/services.h"
#include "server/stream_batches.h"

namespace crius::server {

grpc::ServerWriteReactor<v1::StreamImagesResponse>* ImageService::StreamImages(grpc::CallbackServerContext*,
                                                                               const v1::StreamImagesRequest* req) {
  using Response = v1::StreamImagesResponse;
  return BatchWriter<Response>::fast(rpc_, "StreamImages", [this, req](Batches<Response>& out) {
    std::vector<image::ImageRecord> records;
    const std::string& filter = req->filter().image().image();
    const auto config = config_.get();
    if (filter.empty()) {
      records = images_.list();
    } else if (auto r = images_.find(filter, config->image)) {
      records.push_back(*r);
    }
    for (const auto& r : records)
      out.add(&Response::add_images,
              [&](auto* item) { to_cri_image(r, image::is_pinned(r, config->image.pinned_images), item); });
  });
}

}  // namespace crius::server
