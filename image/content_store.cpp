#include "image/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/random_id.h"
#include "image/reference.h"

namespace crius::image {

void check_digest(const std::string& digest) {
  if (!is_sha256_digest(digest)) throw InvalidArgument("unsupported or malformed digest \"" + digest + "\"");
}

ContentStore::ContentStore(std::string dir) : dir_(std::move(dir)) {
  mkdir_all(dir_ + "/blobs/sha256", 0755);
  mkdir_all(dir_ + "/ingest", 0755);
}

void ContentStore::clear_ingest() {
  remove_all(dir_ + "/ingest");
  mkdir_all(dir_ + "/ingest", 0755);
}

std::string ContentStore::blob_path(const std::string& digest) const {
  check_digest(digest);
  return dir_ + "/blobs/sha256/" + digest.substr(7);
}

bool ContentStore::has(const std::string& digest) const {
  struct stat st;
  return ::stat(blob_path(digest).c_str(), &st) == 0;
}

std::string ContentStore::read(const std::string& digest) const { return read_file(blob_path(digest)); }

void ContentStore::put(const std::string& digest, std::string_view data, const std::string& tmp_dir) {
  if (has(digest)) return;
  Writer w(*this, digest, static_cast<int64_t>(data.size()), tmp_dir);
  w.write(data.data(), data.size());
  w.commit();
}

void ContentStore::remove(const std::string& digest) {
  if (::unlink(blob_path(digest).c_str()) != 0 && errno != ENOENT)
    throw Internal(errno_text("removing blob " + digest, errno));
}

ContentStore::Writer::Writer(ContentStore& store, std::string digest, int64_t expected_size, const std::string& tmp_dir)
    : store_(store), digest_(std::move(digest)), expected_size_(expected_size) {
  check_digest(digest_);
  tmp_ = (tmp_dir.empty() ? store_.dir_ + "/ingest" : tmp_dir) + "/" + digest_.substr(7, 16) + "-" + random_hex(6);
  fd_ = Fd(::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd_) throw write_error("creating " + tmp_);
}

ContentStore::Writer::~Writer() {
  // A file left behind is removed with the ingest dir at the next start.
  if (!committed_ && ::unlink(tmp_.c_str()) != 0 && errno != ENOENT)
    log::warn("removing an unfinished blob", {{"path", tmp_}, {"error", errno_text("unlink", errno)}});
}

void ContentStore::Writer::write(const void* data, size_t n) {
  hash_.update(data, n);
  if (!write_all(fd_.get(), data, n)) throw write_error("writing blob " + digest_ + " to " + tmp_);
  written_ += n;
}

void ContentStore::Writer::commit() {
  if (expected_size_ >= 0 && written_ != static_cast<uint64_t>(expected_size_))
    throw FailedPrecondition("blob " + digest_ + ": expected " + std::to_string(expected_size_) + " bytes, got " +
                             std::to_string(written_));
  const std::string actual = hash_.digest();
  if (actual != digest_) throw FailedPrecondition("blob digest mismatch: expected " + digest_ + ", got " + actual);
  if (::fsync(fd_.get()) != 0) throw write_error("fsync " + tmp_);
  fd_.reset();
  const std::string dst = store_.blob_path(digest_);
  if (::rename(tmp_.c_str(), dst.c_str()) != 0) throw write_error("renaming " + tmp_ + " to " + dst);
  committed_ = true;
  // An image record saved next names this blob: its name must outlive a crash too.
  sync_directory(store_.dir_ + "/blobs/sha256");
}

}  // namespace crius::image
