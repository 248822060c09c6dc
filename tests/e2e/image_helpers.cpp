#include "tests/e2e/image_helpers.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace crius::test::image_e2e {

namespace fs = std::filesystem;

std::unique_ptr<grpc::ClientContext> ctx(int seconds) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

const fixtures::Layer& busybox() {
  static const fixtures::Layer layer = fixtures::busybox_layer(Compression::gzip);
  return layer;
}

PullResult pull(Daemon& d, const std::string& image, const v1::AuthConfig* auth, const v1::PodSandboxConfig* pod) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image);
  if (auth) *req.mutable_auth() = *auth;
  if (pod) *req.mutable_sandbox_config() = *pod;
  v1::PullImageResponse res;
  PullResult r;
  r.status = d.image()->PullImage(ctx(90).get(), req, &res);
  r.id = res.image_ref();
  return r;
}

std::optional<v1::Image> status(Daemon& d, const std::string& image, std::string* info) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(image);
  req.set_verbose(info != nullptr);
  v1::ImageStatusResponse res;
  auto s = d.image()->ImageStatus(ctx().get(), req, &res);
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (info && res.info().count("info")) *info = res.info().at("info");
  if (!res.has_image()) return std::nullopt;
  return res.image();
}

std::vector<v1::Image> list(Daemon& d, const std::string& filter) {
  v1::ListImagesRequest req;
  if (!filter.empty()) req.mutable_filter()->mutable_image()->set_image(filter);
  v1::ListImagesResponse res;
  auto s = d.image()->ListImages(ctx().get(), req, &res);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {res.images().begin(), res.images().end()};
}

grpc::Status remove(Daemon& d, const std::string& image) {
  v1::RemoveImageRequest req;
  req.mutable_image()->set_image(image);
  v1::RemoveImageResponse res;
  return d.image()->RemoveImage(ctx().get(), req, &res);
}

std::string layer_dir(Daemon& d, const std::string& digest) {
  return d.dir() / ("root/images/layers/" + digest.substr(7) + "/diff");
}

std::vector<std::string> leftovers(Daemon& d) {
  std::vector<std::string> out;
  for (const char* sub : {"root/images/layers", "root/images/ingest"}) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(d.dir() / sub, ec))
      if (e.path().filename().string().rfind("tmp-", 0) == 0 || std::string(sub).find("ingest") != std::string::npos)
        out.push_back(e.path().string());
  }
  return out;
}

size_t count_layers(Daemon& d) {
  size_t n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(d.dir() / "root/images/layers", ec)) n += e.path().filename().string().size() == 64;
  return n;
}


}  // namespace crius::test::image_e2e
