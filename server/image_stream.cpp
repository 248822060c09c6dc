// StreamImages: the ListImages answer delivered in batches over a server
// stream, for nodes with more images than one message should carry.
#include <deque>

#include "server/image_convert.h"
#include "server/services.h"

namespace crius::server {
namespace {

constexpr int kBatch = 256;

// Writes prepared batches one after another, then finishes.
class BatchWriter final : public grpc::ServerWriteReactor<v1::StreamImagesResponse> {
 public:
  BatchWriter(std::deque<v1::StreamImagesResponse> batches, grpc::Status status)
      : batches_(std::move(batches)), status_(std::move(status)) {
    next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "StreamImages: the client went away"));
      return;
    }
    batches_.pop_front();
    next();
  }
  void OnDone() override { delete this; }

 private:
  void next() {
    if (!status_.ok() || batches_.empty()) {
      Finish(status_);
      return;
    }
    StartWrite(&batches_.front());
  }
  std::deque<v1::StreamImagesResponse> batches_;
  grpc::Status status_;
};

}  // namespace

grpc::ServerWriteReactor<v1::StreamImagesResponse>* ImageService::StreamImages(grpc::CallbackServerContext*,
                                                                               const v1::StreamImagesRequest* req) {
  std::deque<v1::StreamImagesResponse> batches;
  grpc::Status status = rpc_.run("StreamImages", [&] {
    std::vector<image::ImageRecord> records;
    const std::string& filter = req->filter().image().image();
    const auto config = config_.get();
    if (filter.empty()) {
      records = images_.list();
    } else if (auto r = images_.find(filter, config->image)) {
      records.push_back(*r);
    }
    for (size_t i = 0; i < records.size(); ++i) {
      if (i % kBatch == 0) batches.emplace_back();
      to_cri_image(records[i], image::is_pinned(records[i], config->image.pinned_images), batches.back().add_images());
    }
  });
  return new BatchWriter(std::move(batches), std::move(status));
}

}  // namespace crius::server
