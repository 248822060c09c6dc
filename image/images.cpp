#include "image/images.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/crash_point.h"
#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/random_id.h"
#include "base/rollback.h"
#include "image/byte_pipe.h"
#include "image/layer_unpack.h"
#include "image/manifest.h"
#include "image/sha256.h"

namespace crius::image {
namespace {

constexpr auto kProgressEvery = std::chrono::seconds(5);

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

std::string human(uint64_t n) {
  char buf[32];
  if (n >= (1u << 20)) snprintf(buf, sizeof buf, "%.1fMiB", static_cast<double>(n) / (1 << 20));
  else snprintf(buf, sizeof buf, "%.1fKiB", static_cast<double>(n) / 1024);
  return buf;
}

}  // namespace

// Bytes done of a pull's total, logged every few seconds while it runs.
class Images::Progress {
 public:
  Progress(std::string image, uint64_t total, const PullContext& context)
      : image_(std::move(image)), total_(total), context_(context) {}
  void add(uint64_t n) {
    done_ += n;
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    int64_t last = last_.load();
    if (now - last < std::chrono::duration_cast<std::chrono::steady_clock::duration>(kProgressEvery).count()) return;
    if (!last_.compare_exchange_strong(last, now)) return;
    log::info("pulling image", {{"image", image_}, {"done", human(done_)}, {"total", human(total_)},
                                {"pod", context_.pod}, {"pod_uid", context_.pod_uid}});
  }
  uint64_t done() const { return done_; }

 private:
  std::string image_;
  uint64_t total_;
  const PullContext& context_;
  std::atomic<uint64_t> done_{0};
  std::atomic<int64_t> last_{std::chrono::steady_clock::now().time_since_epoch().count()};
};

struct Images::Resolved {
  std::string top_digest;     // what the tag pointed at (index or manifest)
  std::string manifest_body;  // the platform manifest
  std::string manifest_digest;
  Manifest manifest;
};

Images::Images(const std::string& root, std::string certs_dir, PullObserver observer)
    : dir_(root + "/images"),
      content_(dir_),
      records_(dir_),
      client_(std::move(certs_dir)),
      observer_(std::move(observer)) {
  mkdir_all(dir_ + "/layers/l", 0755);
  mkdir_all(containers_dir(), 0755);
  remove_leftovers();
}

namespace {

bool is_hex64(const std::string& s) { return is_sha256_digest("sha256:" + s); }

}  // namespace

void Images::remove_leftovers() {
  // What a crash can leave: a layer committed whose image record was never
  // saved, blobs of such a pull, and the temporary files of any pull (the
  // content store clears its own ingest dir).
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

void Images::once(const std::string& key, const std::function<void()>& fn) {
  for (int round = 0;; ++round) {
    std::promise<void> mine;
    std::shared_future<void> theirs;
    {
      std::lock_guard lock(inflight_mu_);
      auto it = inflight_.find(key);
      if (it == inflight_.end()) inflight_.emplace(key, mine.get_future().share());
      else theirs = it->second;
    }
    if (theirs.valid()) {
      try {
        theirs.get();
        return;
      } catch (...) {
        // Another pull failed (perhaps with other credentials): try ourselves once.
        if (round > 0) throw;
        continue;
      }
    }
    try {
      fn();
      mine.set_value();
    } catch (...) {
      mine.set_exception(std::current_exception());
      std::lock_guard lock(inflight_mu_);
      inflight_.erase(key);
      throw;
    }
    std::lock_guard lock(inflight_mu_);
    inflight_.erase(key);
    return;
  }
}

Images::Resolved Images::resolve(const Reference& ref, const Target& target, const RegistryClient::Call& call) {
  Resolved r;
  const std::string wanted = ref.digest.empty() ? ref.tag : ref.digest;
  Fetched top = client_.manifest(call, wanted);
  r.top_digest = sha256_digest(top.body);
  if (!ref.digest.empty() && r.top_digest != ref.digest)
    throw FailedPrecondition("manifest digest mismatch for " + ref.str() + " from " + target.host + ": got " +
                             r.top_digest);
  Manifest m = parse_manifest(top.body, top.media_type);
  if (!m.is_index) {
    r.manifest_body = std::move(top.body);
    r.manifest_digest = r.top_digest;
    r.manifest = std::move(m);
    return r;
  }
  const Descriptor& d = select_platform(m, host_platform());
  Fetched child = client_.manifest(call, d.digest);
  r.manifest_digest = sha256_digest(child.body);
  if (r.manifest_digest != d.digest)
    throw FailedPrecondition("manifest digest mismatch for " + d.digest + " from " + target.host + ": got " +
                             r.manifest_digest);
  r.manifest = parse_manifest(child.body, child.media_type);
  if (r.manifest.is_index) throw FailedPrecondition("index " + d.digest + " points at another index");
  r.manifest_body = std::move(child.body);
  return r;
}

void Images::fetch_config(const RegistryClient::Call& call, const Descriptor& d, Progress& progress) {
  if (content_.has(d.digest)) return;
  once("blob:" + d.digest, [&] {
    if (content_.has(d.digest)) return;
    ContentStore::Writer w(content_, d.digest, d.size);
    client_.blob(call, d.digest, [&](const char* p, size_t n) {
      if (w.written() + n > static_cast<uint64_t>(d.size))
        throw FailedPrecondition("blob " + d.digest + " is larger than its descriptor's " + std::to_string(d.size) + " bytes");
      w.write(p, n);
      progress.add(n);
      if (observer_.bytes) observer_.bytes(n);
    });
    w.commit();
  });
}

void Images::fetch_layer(const RegistryClient::Call& call, const Descriptor& d, const std::string& diff_id,
                         Progress& progress) {
  const std::string final_dir = dir_ + "/layers/" + d.digest.substr(7);
  // A layer present already was checked when it was unpacked; it must also
  // be the one this image's config names.
  auto check_present = [&] {
    const auto had = read_file_if_exists(final_dir + "/diff_id");
    if (!had) return;  // unpacked before diff_ids were recorded
    if (!diff_id.empty() && *had != diff_id)
      throw FailedPrecondition("layer " + d.digest + " unpacks to " + *had + " but the image config's diff_id is " +
                               diff_id);
  };
  if (has_layer(d.digest)) {
    check_present();
    if (observer_.layer_reused) observer_.layer_reused();
    return;
  }
  once("layer:" + d.digest, [&] {
    if (has_layer(d.digest)) return check_present();
    const std::string tmp = dir_ + "/layers/tmp-" + d.digest.substr(7, 12) + "-" + random_hex(4);
    Rollback undo("layer unpack of " + d.digest);
    undo.add([tmp] { remove_all(tmp); });
    // diff becomes the layer's root: 0755 whatever the umask.
    mkdir_all(tmp + "/diff", 0755);
    if (::chmod((tmp + "/diff").c_str(), 0755) != 0) throw_errno("setting the mode of " + tmp + "/diff");
    // Opened before anything is written: a syncfs reports the write-back
    // errors since its fd was opened, so one of a layer unpacked beside this
    // one cannot hide this layer's.
    Fd diff_fd(::open((tmp + "/diff").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!diff_fd) throw_errno("opening " + tmp + "/diff");

    BytePipe pipe;
    std::exception_ptr unpack_error;
    UnpackStats unpacked;
    std::thread unpacker([&] {
      bool stop_transfer = false;
      try {
        unpacked = unpack_layer(tmp + "/diff", [&](std::string& chunk) { return pipe.pop(chunk); });
      } catch (const Error& e) {
        unpack_error = std::current_exception();
        // Malformed data may be a corrupted transfer, which the digest check
        // below names; after any other failure (a full disk) the rest of the
        // layer would only be thrown away.
        stop_transfer = e.code() != ErrorCode::invalid_argument;
      } catch (...) {
        unpack_error = std::current_exception();
        stop_transfer = true;
      }
      pipe.reader_done(stop_transfer);
    });
    // The unpacker's failure, saying which layer and where it was going.
    auto rethrow_unpack_error = [&] {
      if (!unpack_error) return;
      try {
        std::rethrow_exception(unpack_error);
      } catch (const Error& e) {
        throw Error(e.code(), "unpacking layer " + d.digest + " into " + tmp + "/diff: " + e.what());
      }
    };
    Sha256 hash;
    uint64_t received = 0;
    bool unpacker_quit = false;
    try {
      client_.blob(call, d.digest, [&](const char* p, size_t n) {
        received += n;
        if (received > static_cast<uint64_t>(d.size))
          throw FailedPrecondition("layer " + d.digest + " is larger than its descriptor's " + std::to_string(d.size) +
                                   " bytes");
        hash.update(p, n);
        progress.add(n);
        if (observer_.bytes) observer_.bytes(n);
        if (!pipe.push(p, n)) {
          unpacker_quit = true;
          throw Internal("layer " + d.digest + ": unpacking stopped");  // replaced by the unpacker's error below
        }
        if (received < static_cast<uint64_t>(d.size)) crash_point("PullImage/mid-layer");
      });
    } catch (...) {
      pipe.close(std::current_exception());
      unpacker.join();
      if (unpacker_quit) rethrow_unpack_error();
      throw;
    }
    pipe.close();
    unpacker.join();
    layers_fetched_++;
    const std::string actual = hash.digest();
    if (actual != d.digest)
      throw FailedPrecondition("layer digest mismatch: expected " + d.digest + ", got " + actual + " (" +
                               std::to_string(received) + " bytes); nothing was stored");
    if (received != static_cast<uint64_t>(d.size))
      throw FailedPrecondition("layer " + d.digest + ": expected " + std::to_string(d.size) + " bytes, got " +
                               std::to_string(received));
    rethrow_unpack_error();
    if (!diff_id.empty() && unpacked.diff_id != diff_id)
      throw FailedPrecondition("layer " + d.digest + ": diff_id mismatch: the image config says " + diff_id +
                               ", the uncompressed layer is " + unpacked.diff_id + "; nothing was stored");
    if (unpacked.unmapped_owners || unpacked.skipped_devices || unpacked.skipped_xattrs)
      log::warn("layer unpacked with less than it holds: this user namespace cannot map some owners, make device "
                "nodes or set trusted xattrs",
                {{"layer", d.digest},
                 {"unmapped_owners", std::to_string(unpacked.unmapped_owners)},
                 {"first_unmapped", unpacked.first_unmapped},
                 {"skipped_devices", std::to_string(unpacked.skipped_devices)},
                 {"skipped_xattrs", std::to_string(unpacked.skipped_xattrs)}});
    // The image record that will name this layer is fsynced; so must the
    // layer's files be before it is committed, or a machine crash could
    // leave a named layer with empty or missing files. One syncfs for the
    // whole tree and its diff_id (the other layers being unpacked beside it
    // are flushed with it), then the rename made durable in its directory.
    write_file_atomic(tmp + "/diff_id", unpacked.diff_id, 0644, false);
    if (::syncfs(diff_fd.get()) != 0) throw write_error("syncing the filesystem of " + tmp);
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) throw write_error("committing layer " + final_dir);
    // A layer whose name may not survive a crash is not kept: the next pull
    // unpacks it again.
    undo.add([final_dir] { remove_all(final_dir); });
    sync_directory(dir_ + "/layers");
    undo.commit();
    crash_point("PullImage/after-layer");
  });
}

std::string Images::pull(const std::string& image, const Credentials& creds, const conf::ImageConfig& config,
                         const PullContext& context) {
  try {
    std::vector<Reference> candidates = resolve_candidates(image, config.short_name_search);
    for (size_t i = 0;; ++i) {
      try {
        return pull_one(candidates[i], creds, config, context);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::not_found || i + 1 == candidates.size()) throw;
        log::info("image not found; trying the next short-name registry",
                  {{"image", candidates[i].str()}, {"error", e.what()}, {"pod", context.pod}});
      }
    }
  } catch (const std::exception& e) {
    log::warn("pulling image failed",
              {{"image", image}, {"error", e.what()}, {"pod", context.pod}, {"pod_uid", context.pod_uid}});
    throw;
  }
}

std::string Images::pull_one(const Reference& ref, const Credentials& creds, const conf::ImageConfig& config,
                             const PullContext& context) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Target> targets = targets_for(ref, config);
  std::optional<Resolved> resolved;
  const Target* from = nullptr;
  for (const auto& t : targets) {
    RegistryClient::Call call{t, creds, config.pull_progress_timeout};
    try {
      resolved = resolve(ref, t, call);
      from = &t;
      break;
    } catch (const Error& e) {
      if (!t.mirror) throw;
      log::warn("mirror failed; trying the next location", {{"image", ref.str()}, {"mirror", t.host}, {"error", e.what()}});
    }
  }
  const RegistryClient::Call call{*from, creds, config.pull_progress_timeout};
  const Manifest& m = resolved->manifest;

  uint64_t total = static_cast<uint64_t>(m.config.size);
  for (const auto& l : m.layers) total += static_cast<uint64_t>(l.size);
  Progress progress(ref.str(), total, context);
  log::info("pulling image", {{"image", ref.str()}, {"from", from->host}, {"layers", std::to_string(m.layers.size())},
                              {"total", human(total)}, {"pod", context.pod}, {"pod_uid", context.pod_uid}});

  fetch_config(call, m.config, progress);
  ImageRecord rec;
  rec.id = m.config.digest;
  rec.manifest_digest = resolved->manifest_digest;
  rec.size = total;
  read_image_config(content_.read(m.config.digest), rec);
  if (!rec.diff_ids.empty() && rec.diff_ids.size() != m.layers.size())
    throw FailedPrecondition("image " + ref.str() + ": manifest has " + std::to_string(m.layers.size()) +
                             " layers but the config lists " + std::to_string(rec.diff_ids.size()));
  for (const auto& l : m.layers) rec.layers.push_back(l.digest);

  // Layers in parallel, each its own directory, so their order does not matter.
  const size_t workers = std::min<size_t>(std::max(1, config.max_parallel_layers), m.layers.size());
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::exception_ptr first_error;
  std::atomic<bool> failed{false};
  // Layer i, unpacked and checked against the config's diff_id when it has them.
  auto fetch = [&](size_t i) {
    fetch_layer(call, m.layers[i], rec.diff_ids.empty() ? std::string() : rec.diff_ids[i], progress);
  };
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < m.layers.size();) {
      try {
        fetch(i);
      } catch (...) {
        std::lock_guard lock(err_mu);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);

  // A RemoveImage of an image sharing layers with this one may have taken a
  // layer this pull found present: fetched again, then committed.
  for (int attempt = 1;; ++attempt) {
    std::vector<size_t> missing;
    {
      std::lock_guard lock(commit_mu_);
      for (size_t i = 0; i < m.layers.size(); ++i)
        if (!has_layer(m.layers[i].digest)) missing.push_back(i);
      if (missing.empty()) {
        content_.put(resolved->manifest_digest, resolved->manifest_body);
        records_.add(rec, ref.digest.empty() ? ref.tagged() : "", ref.digested(resolved->top_digest));
        break;
      }
      if (attempt == 3)
        throw Unavailable("layer " + m.layers[missing.front()].digest + " of " + ref.str() +
                          " was removed three times while it was pulled (concurrent RemoveImage); pull again");
    }
    log::info("a layer was removed while the image was pulled; fetching it again",
              {{"image", ref.str()}, {"layer", m.layers[missing.front()].digest}});
    for (size_t i : missing) fetch(i);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("pulled image", {{"image", ref.str()}, {"id", rec.id}, {"received", human(progress.done())},
                             {"seconds", std::to_string(seconds)}, {"pod", context.pod}});
  return rec.id;
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
