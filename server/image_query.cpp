// ListImages, ImageStatus and ImageFsInfo: reads of the image records (in
// memory, answered inline) and of the image store's disk usage.
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "image/disk_usage.h"
#include "server/cri_validate.h"
#include "server/image_convert.h"
#include "server/services.h"

namespace crius::server {

void to_cri_image(const image::ImageRecord& r, bool pinned, v1::Image* out) {
  out->set_id(r.id);
  for (const auto& t : r.repo_tags) out->add_repo_tags(t);
  for (const auto& d : r.repo_digests) out->add_repo_digests(d);
  out->set_size(r.size);
  const image::ImageUser user = image::image_user(r.user);
  if (user.uid) out->mutable_uid()->set_value(*user.uid);
  out->set_username(user.username);
  out->mutable_spec()->set_image(r.id);
  out->set_pinned(pinned);
}

grpc::ServerUnaryReactor* ImageService::ListImages(grpc::CallbackServerContext* ctx, const v1::ListImagesRequest* req,
                                                   v1::ListImagesResponse* res) {
  return rpc_.fast(ctx, "ListImages", [&] {
    const std::string& filter = req->filter().image().image();
    const auto config = config_.get();
    const auto& pinned = config->image.pinned_images;
    if (!filter.empty()) {
      if (auto r = images_.find(filter, config->image)) to_cri_image(*r, image::is_pinned(*r, pinned), res->add_images());
      return;
    }
    for (const auto& r : images_.list()) to_cri_image(r, image::is_pinned(r, pinned), res->add_images());
  });
}

grpc::ServerUnaryReactor* ImageService::ImageStatus(grpc::CallbackServerContext* ctx, const v1::ImageStatusRequest* req,
                                                    v1::ImageStatusResponse* res) {
  return rpc_.fast(ctx, "ImageStatus", [&] {
    const std::string& what = req->image().image();
    if (what.empty()) throw InvalidArgument("ImageStatus: image is empty");
    check_image_ref(what, "image.image");
    const auto config = config_.get();
    auto r = images_.find(what, config->image);
    if (!r) return;  // absent: an empty response, as the CRI asks
    to_cri_image(*r, image::is_pinned(*r, config->image.pinned_images), res->mutable_image());
    if (!req->verbose()) return;
    nlohmann::json info = {{"id", r->id},
                           {"repoTags", r->repo_tags},
                           {"repoDigests", r->repo_digests},
                           {"manifestDigest", r->manifest_digest},
                           {"layers", r->layers}};
    const std::string spec = images_.config_json(*r);
    try {
      info["imageSpec"] = nlohmann::json::parse(spec);
    } catch (const std::exception&) {
      info["imageSpec"] = nullptr;
    }
    (*res->mutable_info())["info"] = info.dump();
  });
}

grpc::ServerUnaryReactor* ImageService::ImageFsInfo(grpc::CallbackServerContext* ctx, const v1::ImageFsInfoRequest*,
                                                    v1::ImageFsInfoResponse* res) {
  return rpc_.blocking(ctx, "ImageFsInfo", [this, res] {
    const int64_t now = now_ns();
    auto fill = [now](v1::FilesystemUsage* u, const std::string& path) {
      const image::Usage usage = image::disk_usage(path);
      u->set_timestamp(now);
      u->mutable_fs_id()->set_mountpoint(path);
      u->mutable_used_bytes()->set_value(usage.bytes);
      u->mutable_inodes_used()->set_value(usage.inodes);
    };
    fill(res->add_image_filesystems(), images_.dir());
    fill(res->add_container_filesystems(), images_.containers_dir());
  });
}

}  // namespace crius::server
