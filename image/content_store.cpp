#include "image/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "conf/atomic_file.h"
#include "conf/error.h"
#include "image/reference.h"

namespace crius::image {

void check_digest(const std::string& digest) {
  if (!is_sha256_digest(digest)) throw InvalidArgument("unsupported or malformed digest \"" + digest + "\"");
}

ContentStore::ContentStore(std::string dir) : dir_(std::move(dir)) {
  make_dirs(dir_ + "/blobs/sha256");
  make_dirs(dir_ + "/ingest");
  // Leftovers of writes cut short by a crash are never valid blobs.
  remove_tree(dir_ + "/ingest");
  make_dirs(dir_ + "/ingest");
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

void ContentStore::put(const std::string& digest, std::string_view data) {
  if (has(digest)) return;
  Writer w(*this, digest, static_cast<int64_t>(data.size()));
  w.write(data.data(), data.size());
  w.commit();
}

void ContentStore::remove(const std::string& digest) {
  if (::unlink(blob_path(digest).c_str()) != 0 && errno != ENOENT)
    throw Internal(errno_text("removing blob " + digest, errno));
}

ContentStore::Writer::Writer(ContentStore& store, std::string digest, int64_t expected_size)
    : store_(store), digest_(std::move(digest)), expected_size_(expected_size) {
  check_digest(digest_);
  tmp_ = store_.dir_ + "/ingest/" + digest_.substr(7, 16) + "-" + random_hex(6);
  fd_ = Fd(::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd_) throw Internal(errno_text("creating " + tmp_, errno));
}

ContentStore::Writer::~Writer() {
  if (!committed_) ::unlink(tmp_.c_str());
}

void ContentStore::Writer::write(const void* data, size_t n) {
  hash_.update(data, n);
  const char* p = static_cast<const char*>(data);
  size_t left = n;
  while (left) {
    ssize_t w = ::write(fd_.get(), p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Internal(errno_text("writing blob " + digest_ + " to " + tmp_, errno));
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  written_ += n;
}

void ContentStore::Writer::commit() {
  if (expected_size_ >= 0 && written_ != static_cast<uint64_t>(expected_size_))
    throw FailedPrecondition("blob " + digest_ + ": expected " + std::to_string(expected_size_) + " bytes, got " +
                             std::to_string(written_));
  const std::string actual = hash_.digest();
  if (actual != digest_) throw FailedPrecondition("blob digest mismatch: expected " + digest_ + ", got " + actual);
  if (::fsync(fd_.get()) != 0) throw Internal(errno_text("fsync " + tmp_, errno));
  fd_.reset();
  const std::string dst = store_.blob_path(digest_);
  if (::rename(tmp_.c_str(), dst.c_str()) != 0) throw Internal(errno_text("renaming " + tmp_ + " to " + dst, errno));
  committed_ = true;
}

}  // namespace crius::image
