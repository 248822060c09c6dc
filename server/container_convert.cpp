#include "server/container_convert.h"

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "oci/cri/signals.h"
#include "server/filters.h"

namespace crius::server {
namespace v1 = ::runtime::v1;

namespace {

v1::ContainerState state_of(const container::Record& r) { return static_cast<v1::ContainerState>(r.state); }

void fill_common(const container::Record& r, v1::ContainerMetadata* md, v1::ImageSpec* image) {
  md->set_name(r.name);
  md->set_attempt(r.attempt);
  image->set_image(r.image_name);
  image->mutable_annotations()->insert(r.config.image().annotations().begin(), r.config.image().annotations().end());
  image->set_user_specified_image(r.image);
}

}  // namespace

void to_status(const container::Record& r, v1::ContainerStatus* st) {
  st->set_id(r.id);
  fill_common(r, st->mutable_metadata(), st->mutable_image());
  st->set_state(state_of(r));
  st->set_created_at(r.created_at);
  st->set_started_at(r.started_at);
  st->set_finished_at(r.finished_at);
  st->set_exit_code(r.exit_code);
  st->set_image_ref(r.image_ref);
  st->set_image_id(r.image_id);
  st->set_reason(r.reason);
  st->set_message(r.message);
  st->mutable_labels()->insert(r.config.labels().begin(), r.config.labels().end());
  st->mutable_annotations()->insert(r.config.annotations().begin(), r.config.annotations().end());
  for (const auto& m : r.config.mounts()) *st->add_mounts() = m;
  // Image volumes: the digest of the image mounted (ImageVolumeWithDigest).
  for (const auto& [i, ref] : r.image_volume_refs)
    if (i < st->mounts_size()) st->mutable_mounts(i)->mutable_image()->set_image_ref(ref);
  st->set_log_path(r.log_path);
  *st->mutable_resources()->mutable_linux() = r.resources;
  auto* user = st->mutable_user()->mutable_linux();
  user->set_uid(r.uid);
  user->set_gid(r.gid);
  for (uint32_t g : r.supplemental_groups) user->add_supplemental_groups(g);
  st->set_stop_signal(oci::cri::cri_signal(r.stop_signal));  // the one StopContainer sends first
}

void to_list_item(const container::Record& r, v1::Container* c) {
  c->set_id(r.id);
  c->set_pod_sandbox_id(r.pod_id);
  fill_common(r, c->mutable_metadata(), c->mutable_image());
  c->set_image_ref(r.image_ref);
  c->set_image_id(r.image_id);
  c->set_state(state_of(r));
  c->set_created_at(r.created_at);
  c->mutable_labels()->insert(r.config.labels().begin(), r.config.labels().end());
  c->mutable_annotations()->insert(r.config.annotations().begin(), r.config.annotations().end());
}

bool matches(const container::Record& r, const v1::ContainerFilter& f) {
  if (f.has_state() && f.state().state() != state_of(r)) return false;
  return container_filter_match(r, f);
}

std::string verbose_info(const container::Record& r) {
  nlohmann::json info = {{"pid", r.pid},
                         {"sandboxID", r.pod_id},
                         {"runtimeHandler", r.handler},
                         {"bundle", r.bundle},
                         {"rootfs", r.rootfs},
                         {"user", {{"uid", r.uid}, {"gid", r.gid}, {"username", r.username}}}};
  if (auto spec = read_file_if_exists(r.bundle + "/config.json")) {
    try {
      info["runtimeSpec"] = nlohmann::json::parse(*spec);
    } catch (const std::exception& e) {
      // The rest of the verbose info is still worth answering with.
      log::warn("container status: its config.json does not parse; leaving runtimeSpec out",
                {{"id", r.id}, {"error", e.what()}});
    }
  }
  return info.dump();
}

}  // namespace crius::server
