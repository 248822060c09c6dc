// Blobs (manifests, indexes, configs) by digest under <dir>/blobs/sha256/.
// A blob is written to <dir>/ingest/ while its sha256 is computed, and
// renamed into place only when complete and matching its digest, so a blob
// that is visible is always whole and correct.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "image/sha256.h"

namespace crius::image {

class ContentStore {
 public:
  explicit ContentStore(std::string dir);
  // Leftovers of writes cut short by a crash are never valid blobs: removed
  // at start, when no pull writes beside it.
  void clear_ingest();

  const std::string& dir() const { return dir_; }
  std::string blob_path(const std::string& digest) const;
  bool has(const std::string& digest) const;
  // The blob's bytes; NotFound when absent.
  std::string read(const std::string& digest) const;
  // Stores `data` under `digest` after checking it; a mismatch throws and
  // stores nothing. `tmp_dir`: as Writer's.
  void put(const std::string& digest, std::string_view data, const std::string& tmp_dir = "");
  void remove(const std::string& digest);

  // Streams one blob in; nothing is visible until commit() verified it.
  class Writer {
   public:
    // The bytes go to a file in `tmp_dir` (on the store's filesystem; empty:
    // <dir>/ingest) until commit() renames it into place.
    Writer(ContentStore& store, std::string digest, int64_t expected_size, const std::string& tmp_dir = "");
    ~Writer();  // removes the temporary file unless committed
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Throws naming the temporary file: ResourceExhausted when the disk is full.
    void write(const void* data, size_t n);
    uint64_t written() const { return written_; }
    // Checks size and digest, then renames into place. Throws naming the
    // expected and actual digest on a mismatch.
    void commit();

   private:
    ContentStore& store_;
    std::string digest_;
    int64_t expected_size_;
    std::string tmp_;
    Fd fd_;
    Sha256 hash_;
    uint64_t written_ = 0;
    bool committed_ = false;
  };

 private:
  std::string dir_;
};

// Throws InvalidArgument unless `digest` is sha256:<64 hex>.
void check_digest(const std::string& digest);

}  // namespace crius::image
