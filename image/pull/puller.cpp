#include "image/pull/puller.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "base/crash_point.h"
#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/random_id.h"
#include "base/rollback.h"
#include "image/image_store.h"
#include "image/pull/byte_pipe.h"
#include "image/pull/key_lock.h"
#include "image/pull/layer_unpack.h"
#include "image/pull/registry_targets.h"
#include "image/reference.h"
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
class Puller::Progress {
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

struct Puller::Resolved {
  std::string top_digest;     // what the tag pointed at (index or manifest)
  std::string manifest_body;  // the platform manifest
  std::string manifest_digest;
  Manifest manifest;
};

Puller::Puller(const std::string& images_dir, std::string scratch_dir, std::string certs_dir, PullEvents events)
    : dir_(images_dir),
      scratch_(std::move(scratch_dir)),
      content_(dir_),
      client_(std::move(certs_dir)),
      events_(std::move(events)) {
  if (scratch_.empty() || scratch_[0] != '/') throw Internal("a pull needs an absolute scratch dir, not \"" + scratch_ + "\"");
}

bool Puller::has_layer(const std::string& digest) const { return exists(dir_ + "/layers/" + digest.substr(7)); }

Puller::Resolved Puller::resolve(const Reference& ref, const Target& target, const RegistryClient::Call& call) {
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

void Puller::fetch_blob(const RegistryClient::Call& call, const Descriptor& d, Progress& progress) {
  if (content_.has(d.digest)) return;
  KeyLock lock(content_.dir() + "/ingest", "blob-" + d.digest.substr(7));
  if (content_.has(d.digest)) return;  // fetched by whoever held the lock before
  ContentStore::Writer w(content_, d.digest, d.size, scratch_);
  client_.blob(call, d.digest, [&](const char* p, size_t n) {
    if (w.written() + n > static_cast<uint64_t>(d.size))
      throw FailedPrecondition("blob " + d.digest + " is larger than its descriptor's " + std::to_string(d.size) + " bytes");
    w.write(p, n);
    progress.add(n);
    if (events_.bytes) events_.bytes(n);
  });
  w.commit();
}

void Puller::fetch_layer(const RegistryClient::Call& call, const Descriptor& d, const std::string& diff_id,
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
    if (events_.layer_reused) events_.layer_reused();
    return;
  }
  {
    KeyLock lock(content_.dir() + "/ingest", "layer-" + d.digest.substr(7));
    if (has_layer(d.digest)) return check_present();  // unpacked by whoever held the lock before
    const std::string tmp = scratch_ + "/layer-" + d.digest.substr(7, 12) + "-" + random_hex(4);
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
        if (events_.bytes) events_.bytes(n);
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
  }
}

PullResult Puller::pull(const std::string& image, const Credentials& creds, const conf::ImageConfig& config,
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

PullResult Puller::pull_one(const Reference& ref, const Credentials& creds, const conf::ImageConfig& config,
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

  fetch_blob(call, m.config, progress);
  ImageRecord rec;
  rec.id = m.config.digest;
  rec.manifest_digest = resolved->manifest_digest;
  rec.size = total;
  std::string config_json;
  try {
    config_json = content_.read(m.config.digest);
  } catch (const Error& e) {
    // Found present, then taken by a RemoveImage: not the registry's NotFound,
    // which would send the pull on to the next short-name candidate.
    if (e.code() != ErrorCode::not_found) throw;
    throw Unavailable("the config " + m.config.digest + " of " + ref.str() +
                      " was removed while it was pulled (concurrent RemoveImage); pull again");
  }
  read_image_config(config_json, rec);
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

  // The manifest last: a blob the daemon finds with the rest, when it names the image.
  content_.put(resolved->manifest_digest, resolved->manifest_body, scratch_);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("pulled image", {{"image", ref.str()}, {"id", rec.id}, {"received", human(progress.done())},
                             {"seconds", std::to_string(seconds)}, {"pod", context.pod}});
  PullResult r;
  r.ref = ref.str();
  r.tagged = ref.digest.empty() ? ref.tagged() : "";
  r.digested = ref.digested(resolved->top_digest);
  r.manifest_digest = resolved->manifest_digest;
  r.config_digest = rec.id;
  r.layers = rec.layers;
  r.size = total;
  return r;
}

PullRunner in_process_pull_runner() {
  return [](const PullRequest& r, const PullEvents& events) {
    return Puller(r.images_dir, r.scratch_dir, r.certs_dir, events).pull(r.image, r.creds, r.config, r.context);
  };
}

}  // namespace crius::image
