// What a crash in the middle of CreateContainer leaves for a container that
// has no record (the record is written last): a root filesystem (with any
// image volumes mounted in it), a bundle, and a container that the pod's
// monitor holds (created, its process waiting to exec). sweep() releases
// them when the daemon starts, one log line each, so that none of them waits
// for its pod's removal.
#include <filesystem>
#include <functional>

#include "base/file.h"
#include "base/log.h"
#include "container/containers.h"

namespace crius::container {
namespace fs = std::filesystem;

namespace {

void release(const std::string& what, const std::string& id, const std::function<void()>& step) {
  try {
    step();
    log::info("released what a crash left of a container without a record", {{"what", what}, {"id", id}});
  } catch (const std::exception& e) {
    log::warn("releasing what a crash left of a container", {{"what", what}, {"id", id}, {"error", e.what()}});
  }
}

}  // namespace

void Containers::sweep() {
  for (const auto& id : images_.rootfs_ids())
    if (!containers_.count(id)) release("root filesystem", id, [&] { images_.remove_rootfs(id); });
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(bundles_dir_, ec)) {
    const std::string id = d.path().filename();
    if (!containers_.count(id)) release("bundle", id, [&] { remove_all(d.path()); });
  }
  for (const auto& pod : pods_.list()) {
    auto m = oci::monitor::Client::connect(pod.run_dir + "/monitor");
    if (!m) continue;
    try {
      for (const auto& held : m->list())
        if (!containers_.count(held.id)) release("container held by the pod's monitor", held.id, [&] { m->remove(held.id); });
    } catch (const std::exception& e) {
      log::warn("listing the containers of a pod's monitor", {{"pod", pod.id}, {"error", e.what()}});
    }
  }
}

}  // namespace crius::container
