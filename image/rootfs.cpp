// Container root filesystems on overlayfs, from the image store's layers.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mount.h"
#include "base/random_id.h"
#include "base/rollback.h"
#include "base/user_namespace.h"
#include "image/images.h"
#include "image/sub_path.h"

namespace crius::image {
namespace {

constexpr size_t kPageLimit = 4096;  // the kernel copies mount options into one page
constexpr size_t kShortLinkChars = 26;

bool is_mounted(const std::string& path) {
  struct stat here, parent;
  if (::lstat(path.c_str(), &here) != 0 || ::lstat((path + "/..").c_str(), &parent) != 0) return false;
  return here.st_dev != parent.st_dev;
}

std::string short_id() {
  // Upper-case letters and digits, as containers/storage names its links.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string hex = random_hex(kShortLinkChars);
  std::string out;
  for (size_t i = 0; i < kShortLinkChars; ++i)
    out += kAlphabet[std::stoi(hex.substr(2 * i, 2), nullptr, 16) % (sizeof kAlphabet - 1)];
  return out;
}

void check_container_id(const std::string& id) {
  if (id.empty() || id.size() > 128 || id.find('/') != std::string::npos || id == "." || id == "..")
    throw InvalidArgument("invalid container ID \"" + id + "\" for a root filesystem");
}

void set_mode(const std::string& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0) throw_errno("setting the mode of " + path);
}

// A container's image volume, as its volumes/<index>/volume.json holds it.
struct HeldVolume {
  std::string dir;  // <container dir>/volumes/<index>
  std::string image;  // the image ID
  std::vector<std::string> layers;
};

// The image volumes of a container; throws when a record is unreadable. A
// volume directory without a record is one whose mount never happened (its
// record is written first), so it holds nothing.
std::vector<HeldVolume> held_volumes(const std::string& container_dir) {
  std::vector<HeldVolume> out;
  for (const auto& name : list_dir(container_dir + "/volumes")) {
    HeldVolume v{container_dir + "/volumes/" + name, {}, {}};
    const auto text = read_file_if_exists(v.dir + "/volume.json");
    if (!text) continue;
    try {
      const auto j = nlohmann::json::parse(*text);
      v.image = j.at("image").get<std::string>();
      for (const auto& l : j.at("layers")) v.layers.push_back(l.get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw Internal("reading " + v.dir + "/volume.json: " + e.what());
    }
    out.push_back(std::move(v));
  }
  return out;
}

// The layers a container's layers.json and its image volumes hold; none
// when it has none (a directory from before layers were recorded). Throws
// when a record is unreadable.
std::vector<std::string> held_layers(const std::string& container_dir) {
  std::vector<std::string> out;
  if (const auto text = read_file_if_exists(container_dir + "/layers.json")) {
    try {
      for (const auto& l : nlohmann::json::parse(*text)) out.push_back(l.get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw Internal("reading " + container_dir + "/layers.json: " + e.what());
    }
  }
  for (auto& v : held_volumes(container_dir))
    for (auto& l : v.layers) out.push_back(std::move(l));
  return out;
}

// Unmounts whatever is mounted on `path` (idempotent), lazily as a last resort.
void unmount_fully(const std::string& path) {
  for (int i = 0; i < 5 && is_mounted(path); ++i)
    if (::umount2(path.c_str(), i < 4 ? 0 : MNT_DETACH) != 0 && errno != EINVAL && errno != EBUSY)
      throw Internal(errno_text("unmounting " + path, errno));
  if (is_mounted(path)) throw Internal("unmounting " + path + ": still mounted");
}

// Lower dirs (top first) as overlay's lowerdir option. In a user namespace
// overlay keeps its own marks in user.overlay.* (userxattr), where the
// layers' opaque marks are too (layer_unpack.h).
std::string lowerdir_option(const std::vector<std::string>& lowers) {
  std::string out;
  for (const auto& l : lowers) out += (out.empty() ? "" : ":") + l;
  return (in_user_namespace() ? "userxattr,lowerdir=" : "lowerdir=") + out;
}

// Mounts with the new mount API, one lower dir at a time, for images whose
// option string would not fit in a page. No upper (and work) dir: a
// lower-only, read-only overlay.
Mount mount_overlay_incremental(const std::vector<std::string>& lowers, const std::string& upper,
                                const std::string& work, const std::string& target, bool read_only) {
  Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) throw Internal(errno_text("fsopen overlay for " + target, errno));
  if (in_user_namespace() && ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) != 0)
    throw Internal(errno_text("overlay userxattr for " + target, errno));
  for (const auto& l : lowers)
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", l.c_str(), 0) != 0)
      throw Internal(errno_text("overlay lowerdir+ " + l + " (needs Linux 6.8 or later for this many layers)", errno));
  if ((!upper.empty() && (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) != 0 ||
                          ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) != 0)) ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    throw Internal(errno_text("creating the overlay for " + target, errno));
  Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, read_only ? MOUNT_ATTR_RDONLY : 0));
  if (!mnt) throw Internal(errno_text("fsmount overlay for " + target, errno));
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    throw Internal(errno_text("mounting the overlay on " + target, errno));
  return Mount::adopt(target);
}

}  // namespace

std::string Images::short_link(const std::string& digest) {
  const std::string layer = dir_ + "/layers/" + digest.substr(7);
  if (auto had = read_file_if_exists(layer + "/link")) {
    struct stat st;
    if (::lstat((dir_ + "/layers/l/" + *had).c_str(), &st) == 0) return *had;
  }
  // No link yet (a layer's first mount), or it went: a new one.
  const std::string id = short_id();
  const std::string link = dir_ + "/layers/l/" + id;
  if (::symlink(("../" + digest.substr(7) + "/diff").c_str(), link.c_str()) != 0)
    throw write_error("creating layer link " + link);
  try {
    write_file_atomic(layer + "/link", id, 0644);
  } catch (...) {
    ::unlink(link.c_str());  // nothing names it: it would stay until the layer goes
    throw;
  }
  return id;
}

std::vector<std::string> Images::layers_in_containers() const {
  std::vector<std::string> out;
  for (const auto& name : list_dir(containers_dir())) {
    const std::string dir = containers_dir() + "/" + name;
    try {
      for (auto& l : held_layers(dir)) out.push_back(std::move(l));
    } catch (const Error& e) {
      // One damaged record must not stop every removal; its layers are then
      // unprotected, which the log says.
      log::warn("ignoring a container's layer record", {{"dir", dir}, {"error", e.what()}});
    }
  }
  return out;
}

std::vector<std::string> Images::drop_unused_layers(const std::vector<std::string>& candidates) {
  const auto in_use = layers_in_containers();
  std::vector<std::string> moved;
  for (const auto& l : records_.unused_layers(candidates)) {
    if (std::find(in_use.begin(), in_use.end(), l) != in_use.end()) continue;  // a container still runs on it
    const std::string layer = dir_ + "/layers/" + l.substr(7);
    if (auto link = read_file_if_exists(layer + "/link")) {
      const std::string path = dir_ + "/layers/l/" + *link;
      // A link left dangling is removed at the next start (remove_leftovers).
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        log::warn("removing a layer link", {{"path", path}, {"error", errno_text("unlink", errno)}});
    }
    const std::string away = dir_ + "/layers/tmp-rm-" + l.substr(7, 12) + "-" + random_hex(4);
    if (::rename(layer.c_str(), away.c_str()) == 0) moved.push_back(away);
    else if (errno != ENOENT) remove_all(layer);  // cannot happen on one filesystem; still, it goes
  }
  return moved;
}

void Images::remove_moved(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    try {
      remove_all(p);
    } catch (const std::exception& e) {
      // The next start removes it (remove_leftovers).
      log::warn("removing a layer", {{"path", p}, {"error", e.what()}});
    }
  }
}

std::string Images::mount_rootfs(const std::string& container_id, const std::string& image, bool read_only,
                                 const conf::ImageConfig& config, const RootfsIdmap* idmap) {
  check_container_id(container_id);
  std::lock_guard lock(commit_mu_);
  auto rec = records_.find(image, config.short_name_search);
  if (!rec) throw NotFound("image \"" + image + "\" is not present; pull it first");
  const std::string dir = containers_dir() + "/" + container_id;
  const std::string upper = writable_dir(container_id), work = dir + "/work", merged = dir + "/merged";
  if (is_mounted(merged)) return merged;
  // Every step is undone when a later one fails, so a failed mount leaves no
  // layers.json pinning the layers. A directory that was there already (a
  // container mounted before, its upper dir kept) is the container's, and
  // stays for remove_rootfs.
  Rollback undo("root filesystem mount of container " + container_id);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) throw_errno("looking at " + dir);
    undo.add([dir] { remove_all(dir); });
  } else if (::lstat((dir + "/layers.json").c_str(), &st) != 0) {
    undo.add([dir] {
      if (::unlink((dir + "/layers.json").c_str()) != 0 && errno != ENOENT) throw_errno("removing " + dir + "/layers.json");
    });
  }
  mkdir_all(upper, 0755);
  mkdir_all(work, 0755);
  mkdir_all(merged, 0755);
  set_mode(dir, 0700);
  set_mode(upper, 0755);
  set_mode(merged, 0755);
  // The layers are held before the mount so a removal of the image cannot take them.
  write_file_atomic(dir + "/layers.json", nlohmann::json(rec->layers).dump(), 0644);

  // Overlay lists lower dirs top first; the manifest lists them bottom first.
  std::vector<std::string> lowers;
  for (auto it = rec->layers.rbegin(); it != rec->layers.rend(); ++it) {
    if (!has_layer(*it)) throw FailedPrecondition("layer " + *it + " of image " + rec->id + " is missing; pull it again");
    lowers.push_back(dir_ + "/layers/l/" + short_link(*it));
  }
  // Detached once the overlay is mounted (it keeps private clones of its layers).
  std::vector<Mount> idmapped;
  if (idmap) {
    for (size_t i = 0; i < lowers.size(); ++i) {
      const std::string at = dir + "/i/" + std::to_string(i);
      mkdir_all(at, 0700);
      idmapped.push_back(Mount::idmapped_bind(lowers[i], at, idmap->userns_path,
                                              "idmapping layer " + lowers[i] + " for container " + container_id));
      lowers[i] = at;
    }
    if (::chown(upper.c_str(), idmap->root_uid, idmap->root_gid) != 0) throw_errno("chown " + upper);
  }
  const std::string options = lowerdir_option(lowers) + ",upperdir=" + upper + ",workdir=" + work;
  Mount overlay = options.size() < kPageLimit
                      ? Mount::make("overlay", merged, "overlay", read_only ? MS_RDONLY : 0, options,
                                    "mounting the overlay for container " + container_id + " on " + merged)
                      : mount_overlay_incremental(lowers, upper, work, merged, read_only);
  log::debug("container root filesystem mounted",
             {{"container", container_id}, {"image", rec->id}, {"layers", std::to_string(lowers.size())}});
  overlay.keep();  // from here unmount_rootfs's
  idmapped.clear();
  if (idmap) remove_all(dir + "/i");
  undo.commit();
  return merged;
}

void Images::unmount_rootfs(const std::string& container_id) {
  check_container_id(container_id);
  unmount_fully(containers_dir() + "/" + container_id + "/merged");
}

void Images::remove_rootfs(const std::string& container_id) {
  check_container_id(container_id);
  const std::string dir = containers_dir() + "/" + container_id;
  // Its image volumes first: remove_all must never walk into a mount. Every
  // volume directory is unmounted, whatever its record says.
  for (const auto& name : list_dir(dir + "/volumes")) unmount_fully(dir + "/volumes/" + name + "/merged");
  // Idmapped layers a crash left attached (mount_rootfs detaches them).
  for (const auto& name : list_dir(dir + "/i")) unmount_fully(dir + "/i/" + name);
  unmount_rootfs(container_id);
  std::vector<std::string> moved;
  {
    std::lock_guard lock(commit_mu_);
    std::vector<std::string> held;
    try {
      held = held_layers(dir);
    } catch (const Error& e) {
      // The directory goes anyway; layers it held that no image uses are
      // removed at the next start (remove_leftovers).
      log::warn("removing a root filesystem with an unreadable layer record", {{"dir", dir}, {"error", e.what()}});
    }
    remove_all(dir);
    // Layers of images removed while this container ran go now.
    moved = drop_unused_layers(held);
  }
  remove_moved(moved);
}

std::vector<std::string> Images::rootfs_ids() const { return list_dir(containers_dir()); }

ImageVolume Images::mount_image_volume(const std::string& container_id, size_t index, const std::string& image,
                                       const std::string& sub_path, const std::string& field,
                                       const conf::ImageConfig& config) {
  check_container_id(container_id);
  const std::string sub = checked_sub_path(sub_path, field + ".image_sub_path");
  std::lock_guard lock(commit_mu_);
  auto rec = records_.find(image, config.short_name_search);
  if (!rec) throw NotFound(field + ".image \"" + image + "\": the image is not present locally; pull it first");
  const std::string container_dir = containers_dir() + "/" + container_id;
  struct stat st;
  if (::lstat(container_dir.c_str(), &st) != 0)
    throw Internal(errno_text("image volume of container " + container_id + ": its root filesystem directory " +
                                  container_dir,
                              errno));
  const std::string dir = container_dir + "/volumes/" + std::to_string(index);
  const std::string merged = dir + "/merged", empty = dir + "/empty";
  if (::lstat(dir.c_str(), &st) == 0)
    throw Internal("image volume " + field + " of container " + container_id + ": " + dir + " exists already");
  Rollback undo("image volume " + field + " of container " + container_id);
  undo.add([dir] { remove_all(dir); });
  mkdir_all(merged, 0755);
  mkdir_all(empty, 0755);
  set_mode(merged, 0755);
  set_mode(empty, 0755);
  // The layers are held before the mount so a removal of the image cannot
  // take them, and the image is named so that its removal is refused.
  write_file_atomic(dir + "/volume.json", nlohmann::json{{"image", rec->id}, {"layers", rec->layers}}.dump(), 0644);

  std::vector<std::string> lowers;
  for (auto it = rec->layers.rbegin(); it != rec->layers.rend(); ++it) {
    if (!has_layer(*it)) throw FailedPrecondition("layer " + *it + " of image " + rec->id + " is missing; pull it again");
    lowers.push_back(dir_ + "/layers/l/" + short_link(*it));
  }
  // Overlay wants two lower dirs when there is no upper one: an empty one
  // under a single layer.
  if (lowers.size() < 2) lowers.push_back(empty);
  const std::string options = lowerdir_option(lowers);
  Mount overlay = options.size() < kPageLimit
                      ? Mount::make("overlay", merged, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, options,
                                    "mounting image " + rec->id + " for " + field + " of container " + container_id +
                                        " on " + merged)
                      : mount_overlay_incremental(lowers, "", "", merged, true);
  const std::string source = resolve_sub_dir(merged, sub, field + ".image_sub_path");
  log::debug("image volume mounted", {{"container", container_id}, {"image", rec->id}, {"path", source}});
  overlay.keep();  // from here remove_rootfs's
  undo.commit();
  return {source, rec->id, rec->repo_digests.empty() ? rec->id : rec->repo_digests.front()};
}

std::optional<std::string> Images::volume_user(const std::string& image_id) const {
  for (const auto& name : list_dir(containers_dir())) {
    const std::string dir = containers_dir() + "/" + name;
    try {
      for (const auto& v : held_volumes(dir))
        if (v.image == image_id) return name;
    } catch (const Error& e) {
      log::warn("ignoring a container's image volume record", {{"dir", dir}, {"error", e.what()}});
    }
  }
  return std::nullopt;
}

}  // namespace crius::image
