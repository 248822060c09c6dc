// PullImage: credentials from the CRI AuthConfig, the pod the pull is for
// (sandbox_config), the pull itself on the work pool, and the pull metrics.
//
// What the pod context changes: the pod is named in every log line of the
// pull (start, progress, end, failure), so an operator can tell whose pull
// is slow or failing. containerd also uses it to pick a snapshotter and
// platform per runtime handler; crius has one layer store and pulls for the
// machine's own platform whatever the handler, so there is nothing to pick.
#include <chrono>

#include "base/error.h"
#include "server/cri_validate.h"
#include "server/services.h"

namespace crius::server {
namespace {

image::Credentials credentials(const v1::AuthConfig& auth) {
  image::Credentials c;
  c.username = auth.username();
  c.password = auth.password();
  if (c.username.empty() && !auth.auth().empty()) std::tie(c.username, c.password) = image::Credentials::decode_auth(auth.auth());
  c.identity_token = auth.identity_token();
  c.registry_token = auth.registry_token();
  return c;
}

image::PullContext pull_context(const v1::PullImageRequest& req) {
  image::PullContext c;
  if (!req.has_sandbox_config()) return c;
  const auto& m = req.sandbox_config().metadata();
  c.pod = m.namespace_() + "/" + m.name();
  c.pod_uid = m.uid();
  return c;
}

}  // namespace

grpc::ServerUnaryReactor* ImageService::PullImage(grpc::CallbackServerContext* ctx, const v1::PullImageRequest* req,
                                                  v1::PullImageResponse* res) {
  return rpc_.blocking(ctx, "PullImage", [this, req, res] {
    const std::string& image = req->image().image();
    if (image.empty()) throw InvalidArgument("PullImage: image is empty");
    check_image_ref(image, "image.image");
    const image::Credentials creds = credentials(req->auth());
    const auto start = std::chrono::steady_clock::now();
    try {
      res->set_image_ref(images_.pull(image, creds, config_.get()->image, pull_context(*req)));
    } catch (...) {
      metrics_.observe_image_pull("failure", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      throw;
    }
    metrics_.observe_image_pull("success", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace crius::server
