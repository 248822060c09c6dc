// Image records: what a pull produced, keyed by the image ID (the config
// digest), with the names that point at it. All records live in one JSON
// file written atomically, loaded when the daemon starts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace crius::image {

struct ImageRecord {
  std::string id;                         // "sha256:<hex>" of the config blob
  std::vector<std::string> repo_tags;     // docker.io/library/busybox:latest
  std::vector<std::string> repo_digests;  // docker.io/library/busybox@sha256:…
  std::string manifest_digest;            // of the platform manifest
  std::vector<std::string> layers;        // layer blob digests, bottom first
  std::vector<std::string> diff_ids;      // from the config's rootfs
  uint64_t size = 0;                      // sum of the layer blob sizes plus config
  // From the config's "config" object.
  std::string user, working_dir, stop_signal;
  std::vector<std::string> env, entrypoint, cmd, volumes;
  std::map<std::string, std::string> labels;

  bool operator==(const ImageRecord&) const = default;
};

// Fills the config fields and diff_ids of `r` from an OCI/Docker image config.
// Throws InvalidArgument naming the problem when the JSON is not a config.
void read_image_config(const std::string& config_json, ImageRecord& r);

// uid when `user` names one numerically ("1000", "1000:1000"); else the name.
struct ImageUser {
  std::optional<int64_t> uid;
  std::string username;
};
ImageUser image_user(const std::string& user);

// Whether `r` is one of `pinned` (image.pinned_images): an entry names it by
// tag or digest reference, normalized as any reference is, or by its ID. An
// entry that is not a reference is logged once and otherwise ignored.
bool is_pinned(const ImageRecord& r, const std::vector<std::string>& pinned);

class ImageStore {
 public:
  // Loads <dir>/images.json when present.
  explicit ImageStore(std::string dir);

  std::vector<ImageRecord> list() const;
  // By ID ("sha256:<hex>", "<hex>", or a unique hex prefix of 3+ digits),
  // by tag or by digest reference (short names through `short_name_search`).
  std::optional<ImageRecord> find(const std::string& what, const std::vector<std::string>& search) const;

  // Adds or updates the image and points `tag` (if any) and `repo_digest` at
  // it; a tag that named another image moves here, leaving that one untagged.
  // A failed write of the records (a full disk) throws and changes nothing.
  void add(ImageRecord r, const std::string& tag, const std::string& repo_digest);

  // What RemoveImage did.
  struct Removal {
    std::optional<ImageRecord> removed;  // the whole image went
    bool untagged = false;               // only a tag went
  };
  // Removes by ID or digest (the whole image) or by tag (only the tag when
  // the image has others). Absent: nothing happens. `check` runs before a
  // whole image goes, and refuses by throwing (nothing is changed then).
  Removal remove(const std::string& what, const std::vector<std::string>& search,
                 const std::function<void(const ImageRecord&)>& check = {});

  // Layer digests that no remaining image uses, among `candidates`.
  std::vector<std::string> unused_layers(const std::vector<std::string>& candidates) const;

 private:
  std::optional<std::string> find_id(const std::string& what, const std::vector<std::string>& search) const;
  // Writes `images` and only then makes them the store's (a failed write,
  // a full disk, changes nothing); with mu_ held.
  void save(std::map<std::string, ImageRecord> images);

  std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, ImageRecord> images_;
};

}  // namespace crius::image
