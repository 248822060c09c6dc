// A layer blob's bytes uncompressed as they arrive: gzip (through ISA-L's
// igzip when crius is built with it, several times zlib's speed, else
// zlib), zstd (libzstd) or none, told apart by the blob's first bytes.
// Concatenated gzip members and zstd frames are one stream, as gzip -d and
// zstd -d read them.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace crius::image {

// Fills `chunk` with the next bytes of the blob; false at the end.
using ChunkSource = std::function<bool(std::string& chunk)>;

enum class GzipEngine { isal, zlib };
// ISA-L when this build has it.
GzipEngine best_gzip_engine();

class Inflow {
 public:
  explicit Inflow(const ChunkSource& source, GzipEngine gzip = best_gzip_engine());
  ~Inflow();
  Inflow(const Inflow&) = delete;
  Inflow& operator=(const Inflow&) = delete;

  // The next block of the uncompressed stream, valid until the next call; 0
  // at its end. Throws InvalidArgument naming the format for corrupt or
  // truncated data; the source's own errors pass through.
  size_t next(const char** data);
  // "gzip", "zstd" or "none" once the first bytes were read.
  const char* format() const;

  struct Codec;

 private:
  bool fill();  // more compressed bytes into in_; false at the source's end

  const ChunkSource& source_;
  GzipEngine gzip_;
  std::string in_, out_;
  size_t in_pos_ = 0;
  bool pending_ = false;  // the last block was full: the codec may have more
  bool source_done_ = false;
  bool done_ = false;
  std::unique_ptr<Codec> codec_;
};

}  // namespace crius::image
