// The image store crius serves the ImageService from: pulls (run by a
// PullRunner, crius-pull in the daemon: pull_protocol.h), image records,
// removal, container root filesystems, and disk usage. Layout under
// <root>/images:
//   blobs/sha256/<hex>   manifests and configs (content store)
//   ingest/              blobs being written, and the pulls' lock files
//   layers/<hex>/diff    one unpacked layer per layer blob digest
//   layers/<hex>/diff_id the sha256 of its uncompressed tar, checked against configs
//   layers/tmp-*         layers being unpacked (removed at start, with any
//                        layer or blob no image record or container uses)
//   containers/          container writable layers, and image volumes
//                        (containers/<id>/volumes/<n>/{merged,empty,volume.json})
//   images.json          the image records
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "image/content_store.h"
#include "image/disk_usage.h"
#include "image/image_store.h"
#include "image/pull_protocol.h"

namespace crius::image {

// An image volume as mount_image_volume made it.
struct ImageVolume {
  std::string source;     // the directory to bind: the overlay's root or its sub directory
  std::string image_id;   // "sha256:…"
  std::string image_ref;  // a repo digest when known, else the image ID (ContainerStatus.mounts[].image.image_ref)
};

class Images {
 public:
  // At start, which no pull runs beside: removes what pulls and removals
  // cut short by a crash left (remove_leftovers).
  Images(const std::string& root, std::string certs_dir, PullRunner runner, PullEvents events = {});

  // Pulls `image` (a reference as the user typed it) through the runner,
  // records it, and returns its ID.
  std::string pull(const std::string& image, const Credentials& creds, const conf::ImageConfig& config,
                   const PullContext& context = {});

  std::optional<ImageRecord> find(const std::string& what, const conf::ImageConfig& config) const {
    return records_.find(what, config.short_name_search);
  }
  std::vector<ImageRecord> list() const { return records_.list(); }
  // The image config JSON as the registry served it; empty when missing.
  std::string config_json(const ImageRecord& r) const;
  // Removes by ID, tag or digest reference; absent is not an error.
  // FailedPrecondition naming the container when an image volume of one
  // mounts it (untagging one of its several tags is allowed).
  void remove(const std::string& what, const conf::ImageConfig& config);

  const std::string& dir() const { return dir_; }
  // Where container writable layers (upper and work dirs) live.
  std::string containers_dir() const { return dir_ + "/containers"; }
  std::string layer_dir(const std::string& digest) const;  // <dir>/layers/<hex>/diff
  // A container's writable layer: the overlay's upper dir (whether or not it exists).
  std::string writable_dir(const std::string& container_id) const {
    return containers_dir() + "/" + container_id + "/upper";
  }
  Usage usage() const { return disk_usage(dir_); }

  // Container root filesystems (rootfs.cpp): an overlay of the image's layers
  // under <containers_dir>/<id>/{upper,work} mounted on <id>/merged, which is
  // returned. Lower dirs are named by short links (layers/l/<26 chars>) to
  // stay under the kernel's one-page limit for mount options; past it the
  // layers are given one at a time (fsconfig "lowerdir+", Linux 6.8+).
  // Layers a container uses outlive their image until remove_rootfs.
  //
  // For a pod with a user namespace (`idmap`): overlayfs itself cannot be
  // idmapped, its layers can (Linux 5.19+). Each lower layer is given to the
  // overlay through an idmapped bind (mapped through the user namespace at
  // `userns_path`, detached again once the overlay holds its own clones), so
  // that the image's files of ID n are the pod's n, with no chown of layers;
  // the upper dir belongs to the pod's root (`root_uid`/`root_gid` on the
  // node), so what the pod writes is stored with the node's IDs of the pod.
  struct RootfsIdmap {
    std::string userns_path;
    uint32_t root_uid = 0, root_gid = 0;
  };
  std::string mount_rootfs(const std::string& container_id, const std::string& image, bool read_only,
                           const conf::ImageConfig& config, const RootfsIdmap* idmap = nullptr);
  // Unmounts (idempotent); the upper dir stays for a later mount or removal.
  void unmount_rootfs(const std::string& container_id);
  // Unmounts, deletes the container's dirs, and frees layers no image or
  // container still uses. Idempotent.
  void remove_rootfs(const std::string& container_id);
  // The containers that have a root filesystem directory (for the leftover
  // cleanup of containers whose record is gone).
  std::vector<std::string> rootfs_ids() const;

  // Image volumes (rootfs.cpp): image `image` (ID, reference or digest; it
  // must be present: NotFound otherwise) as a read-only, lower-only overlay of
  // its layers on <containers_dir>/<container_id>/volumes/<index>/merged,
  // after mount_rootfs of the container, so that it goes with remove_rootfs.
  // volumes/<index>/volume.json names the image (RemoveImage is refused
  // while it is there) and holds its layers as layers.json does. `sub_path`
  // (Mount.image_sub_path) picks a directory of the image: InvalidArgument
  // naming `field` (e.g. "mounts[2]") when it is absolute, has "..", is
  // missing, is not a directory or leads out through a symlink. A failure
  // leaves nothing behind.
  ImageVolume mount_image_volume(const std::string& container_id, size_t index, const std::string& image,
                                 const std::string& sub_path, const std::string& field,
                                 const conf::ImageConfig& config);

 private:
  // Runs the pull in a scratch dir of its own, removed however it ended.
  PullResult run_pull(PullRequest& req);
  // Names the image that `r` stored, unless a RemoveImage took one of its
  // blobs or layers meanwhile: then the first missing one, and no record.
  std::optional<std::string> commit(const PullResult& r);
  // At start: removes what no image record or container references (layers,
  // blobs, short links) and the temporary files of pulls a crash cut short.
  void remove_leftovers();
  bool has_layer(const std::string& digest) const;
  std::string short_link(const std::string& digest);    // with commit_mu_ held
  std::vector<std::string> layers_in_containers() const;  // with commit_mu_ held
  // With commit_mu_ held: moves the layers among `candidates` that no image
  // or container uses out of the store (a rename to layers/tmp-rm-…, which a
  // crash leaves to remove_leftovers) and returns where they went, for
  // remove_moved() once the lock is released: deleting a layer of thousands
  // of files takes seconds, which pulls and container mounts must not wait for.
  std::vector<std::string> drop_unused_layers(const std::vector<std::string>& candidates);
  static void remove_moved(const std::vector<std::string>& paths);
  // remove()'s part under commit_mu_: the record, its blobs, and its layers
  // moved away (returned).
  std::vector<std::string> remove_record(const std::string& what, const conf::ImageConfig& config);
  // A container with an image volume of `image_id`, if any; with commit_mu_ held.
  std::optional<std::string> volume_user(const std::string& image_id) const;

  std::string dir_;
  std::string certs_dir_;
  ContentStore content_;
  ImageStore records_;
  PullRunner runner_;
  PullEvents events_;
  std::mutex commit_mu_;  // a pull's commit against a removal's layer cleanup
};

}  // namespace crius::image
