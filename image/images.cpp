#include "image/images.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "base/crash_point.h"
#include "base/dir.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/random_id.h"
#include "image/reference.h"

namespace crius::image {
namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace

Images::Images(const std::string& root, std::string certs_dir, PullRunner runner, PullEvents events)
    : dir_(root + "/images"),
      certs_dir_(std::move(certs_dir)),
      content_(dir_),
      records_(dir_),
      runner_(std::move(runner)),
      events_(std::move(events)) {
  mkdir_all(dir_ + "/layers/l", 0755);
  mkdir_all(containers_dir(), 0755);
  remove_leftovers();
}

namespace {

bool is_hex64(const std::string& s) { return is_sha256_digest("sha256:" + s); }

}  // namespace

void Images::remove_leftovers() {
  // What a crash can leave: a layer committed whose image record was never
  // saved, blobs of such a pull, and the temporary files of any pull (its
  // ingest dir, with the lock files of pulls).
  content_.clear_ingest();
  std::set<std::string> layers, blobs;
  for (const auto& r : records_.list()) {
    layers.insert(r.layers.begin(), r.layers.end());
    blobs.insert(r.id);
    if (!r.manifest_digest.empty()) blobs.insert(r.manifest_digest);
  }
  for (const auto& l : layers_in_containers()) layers.insert(l);  // a container still runs on it
  size_t removed = 0;
  auto drop = [&](const std::string& path) {
    try {
      remove_all(path);
      ++removed;
      log::info("removed leftover of an earlier run", {{"path", path}});
    } catch (const std::exception& e) {
      log::warn("removing a leftover of an earlier run", {{"path", path}, {"error", e.what()}});
    }
  };
  const std::string layer_root = dir_ + "/layers/";
  for (const auto& name : list_dir(layer_root)) {
    if (name.starts_with("tmp-") || (is_hex64(name) && !layers.count("sha256:" + name))) drop(layer_root + name);
  }
  for (const auto& link : list_dir(layer_root + "l")) {
    struct stat st;
    if (::stat((layer_root + "l/" + link).c_str(), &st) != 0) drop(layer_root + "l/" + link);  // its layer went
  }
  const std::string blob_root = dir_ + "/blobs/sha256/";
  for (const auto& name : list_dir(blob_root))
    if (!blobs.count("sha256:" + name)) drop(blob_root + name);
  if (removed) log::info("image store cleaned up", {{"removed", std::to_string(removed)}});
}

std::string Images::layer_dir(const std::string& digest) const {
  check_digest(digest);
  return dir_ + "/layers/" + digest.substr(7) + "/diff";
}

bool Images::has_layer(const std::string& digest) const { return exists(dir_ + "/layers/" + digest.substr(7)); }

std::string Images::config_json(const ImageRecord& r) const {
  try {
    return content_.read(r.id);
  } catch (const Error& e) {
    // Callers show the config when there is one (ImageStatus verbose); a
    // missing one is not an error of theirs.
    if (e.code() != ErrorCode::not_found)
      log::warn("reading an image config", {{"image", r.id}, {"error", e.what()}});
    return "";
  }
}

std::string Images::pull(const std::string& image, const Credentials& creds, const conf::ImageConfig& config,
                         const PullContext& context) {
  PullRequest req{image, creds, config, context, dir_, "", certs_dir_};
  std::string tagged;  // the name the client asked for, kept when a retry pulls by digest
  // A RemoveImage of an image sharing blobs or layers with this one may take
  // one that the pull found present before the record names it: the pull
  // runs again (fetching only what went), for the manifest it found.
  for (int attempt = 1;; ++attempt) {
    PullResult r = run_pull(req);
    if (attempt == 1) tagged = r.tagged;
    r.tagged = tagged;
    const auto missing = commit(r);
    if (!missing) return r.config_digest;
    if (attempt == 3)
      throw Unavailable(*missing + " of " + r.ref +
                        " was removed three times while it was pulled (concurrent RemoveImage); pull again");
    log::info("part of the image was removed while it was pulled; pulling again", {{"image", r.ref}, {"missing", *missing}});
    req.image = r.digested;
  }
}

PullResult Images::run_pull(PullRequest& req) {
  // The pull's own scratch dir, under layers/tmp-* (which a crash leaves to
  // remove_leftovers): whatever the runner left there, also when crius-pull
  // was killed or crashed, goes with it.
  req.scratch_dir = dir_ + "/layers/tmp-pull-" + random_hex(6);
  if (::mkdir(req.scratch_dir.c_str(), 0700) != 0) throw write_error("creating " + req.scratch_dir);
  struct RemoveScratch {
    const std::string& dir;
    ~RemoveScratch() {
      try {
        remove_all(dir);
      } catch (const std::exception& e) {
        log::warn("removing a pull's scratch dir", {{"path", dir}, {"error", e.what()}});
      }
    }
  } remove_scratch{req.scratch_dir};
  return runner_(req, events_);
}

std::optional<std::string> Images::commit(const PullResult& r) {
  std::lock_guard lock(commit_mu_);
  for (const auto& l : r.layers)
    if (!has_layer(l)) return "layer " + l;
  for (const auto& blob : {r.config_digest, r.manifest_digest})
    if (!content_.has(blob)) return "blob " + blob;
  ImageRecord rec;
  rec.id = r.config_digest;
  rec.manifest_digest = r.manifest_digest;
  rec.size = r.size;
  rec.layers = r.layers;
  read_image_config(content_.read(r.config_digest), rec);
  records_.add(rec, r.tagged, r.digested);
  return std::nullopt;
}

void Images::remove(const std::string& what, const conf::ImageConfig& config) {
  std::vector<std::string> moved;
  {
    std::lock_guard lock(commit_mu_);
    moved = remove_record(what, config);
  }
  remove_moved(moved);
}

std::vector<std::string> Images::remove_record(const std::string& what, const conf::ImageConfig& config) {
  auto removal = records_.remove(what, config.short_name_search, [this](const ImageRecord& r) {
    // A mounted image volume reads the layers; they stay pinned either way,
    // but the image itself is the volume's source: it stays while mounted.
    if (auto user = volume_user(r.id))
      throw FailedPrecondition("image " + r.id + " is in use by an image volume of container " + *user +
                               "; remove the container first");
  });
  if (!removal.removed) return {};
  crash_point("RemoveImage/after-record");
  const ImageRecord& r = *removal.removed;
  auto moved = drop_unused_layers(r.layers);
  content_.remove(r.id);
  bool manifest_shared = false;
  for (const auto& other : records_.list()) manifest_shared |= other.manifest_digest == r.manifest_digest;
  if (!manifest_shared && !r.manifest_digest.empty()) content_.remove(r.manifest_digest);
  log::info("removed image", {{"id", r.id}});
  return moved;
}

}  // namespace crius::image
