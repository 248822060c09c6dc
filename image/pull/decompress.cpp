#include "image/pull/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#ifdef CRIUS_WITH_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "base/error.h"

namespace crius::image {

// One compressed format. run() takes what it can of `in` and writes what it
// can to `out`; at_boundary() says whether the input so far ends a whole
// member or frame (so that the end of input there is no truncation).
struct Inflow::Codec {
  virtual ~Codec() = default;
  virtual void run(const uint8_t* in, size_t n, size_t& used, uint8_t* out, size_t cap, size_t& made) = 0;
  virtual bool at_boundary() const = 0;
  virtual const char* name() const = 0;
};

namespace {

constexpr size_t kOutBlock = 256 << 10;

[[noreturn]] void corrupt(const char* format, const std::string& why) {
  throw InvalidArgument(std::string("layer: decompressing the blob (") + format + "): " + why);
}

uint32_t clamp32(size_t n) { return static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX)); }

bool gzip_magic(const uint8_t* p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

// After a gzip member: another member, or (as gzip -d and libarchive do)
// anything else is trailing bytes, read and ignored.
struct GzipMembers {
  bool finished = false;  // the last member ended
  bool trailing = false;  // past the last member

  // True when the caller must start a new member; false when `in` is trailing bytes (all used).
  bool next_member(const uint8_t* in, size_t n, size_t& used) {
    if (n == 0 || (!trailing && n == 1 && in[0] == 0x1f)) return false;  // wait for more bytes
    if (!trailing && gzip_magic(in, n)) return true;
    trailing = true;
    used = n;
    return false;
  }
};

#ifdef CRIUS_WITH_ISAL
class IsalGzip final : public Inflow::Codec {
 public:
  IsalGzip() : s_(std::make_unique<inflate_state>()) { reset(); }
  void run(const uint8_t* in, size_t n, size_t& used, uint8_t* out, size_t cap, size_t& made) override {
    used = made = 0;
    if (members_.finished) {
      if (!members_.next_member(in, n, used)) return;
      reset();
    }
    s_->next_in = const_cast<uint8_t*>(in);
    s_->avail_in = clamp32(n);
    s_->next_out = out;
    s_->avail_out = clamp32(cap);
    const int rc = isal_inflate(s_.get());
    if (rc < 0) corrupt("gzip", error_name(rc));
    used = n - s_->avail_in;
    made = cap - s_->avail_out;
    members_.finished = s_->block_state == ISAL_BLOCK_FINISH;
  }
  bool at_boundary() const override { return members_.finished; }
  const char* name() const override { return "gzip"; }

 private:
  void reset() {
    isal_inflate_init(s_.get());
    s_->crc_flag = ISAL_GZIP;  // parse the header, check CRC-32 and size
    members_.finished = false;
  }
  static const char* error_name(int rc) {
    switch (rc) {
      case ISAL_INVALID_BLOCK: return "invalid deflate block";
      case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
      case ISAL_INVALID_WRAPPER: return "not a gzip header";
      case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
      case ISAL_INCORRECT_CHECKSUM: return "checksum mismatch";
      default: return "invalid data";
    }
  }
  std::unique_ptr<inflate_state> s_;
  GzipMembers members_;
};
#endif

class ZlibGzip final : public Inflow::Codec {
 public:
  ZlibGzip() {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw Internal("zlib: inflateInit2 failed");
  }
  ~ZlibGzip() override { inflateEnd(&z_); }
  void run(const uint8_t* in, size_t n, size_t& used, uint8_t* out, size_t cap, size_t& made) override {
    used = made = 0;
    if (members_.finished) {
      if (!members_.next_member(in, n, used)) return;
      inflateReset(&z_);
      members_.finished = false;
    }
    z_.next_in = const_cast<Bytef*>(in);
    z_.avail_in = clamp32(n);
    z_.next_out = out;
    z_.avail_out = clamp32(cap);
    const int rc = inflate(&z_, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      corrupt("gzip", z_.msg ? z_.msg : "invalid data");
    used = n - z_.avail_in;
    made = cap - z_.avail_out;
    members_.finished = rc == Z_STREAM_END;
  }
  bool at_boundary() const override { return members_.finished; }
  const char* name() const override { return "gzip"; }

 private:
  z_stream z_{};
  GzipMembers members_;
};

class Zstd final : public Inflow::Codec {
 public:
  Zstd() : d_(ZSTD_createDStream()) {
    if (!d_) throw Internal("zstd: ZSTD_createDStream failed");
  }
  ~Zstd() override { ZSTD_freeDStream(d_); }
  void run(const uint8_t* in, size_t n, size_t& used, uint8_t* out, size_t cap, size_t& made) override {
    ZSTD_inBuffer i{in, n, 0};
    ZSTD_outBuffer o{out, cap, 0};
    const size_t rc = ZSTD_decompressStream(d_, &o, &i);
    if (ZSTD_isError(rc)) corrupt("zstd", ZSTD_getErrorName(rc));
    used = i.pos;
    made = o.pos;
    // 0: a frame was decoded and flushed whole; any progress since starts another.
    if (rc == 0) frame_done_ = true;
    else if (used || made) frame_done_ = false;
  }
  bool at_boundary() const override { return frame_done_; }
  const char* name() const override { return "zstd"; }

 private:
  ZSTD_DStream* d_;
  bool frame_done_ = false;
};

}  // namespace

GzipEngine best_gzip_engine() {
#ifdef CRIUS_WITH_ISAL
  return GzipEngine::isal;
#else
  return GzipEngine::zlib;
#endif
}

Inflow::Inflow(const ChunkSource& source, GzipEngine gzip) : source_(source), gzip_(gzip) {}

Inflow::~Inflow() = default;

const char* Inflow::format() const { return codec_ ? codec_->name() : "none"; }

bool Inflow::fill() {
  if (source_done_) return false;
  // The unread tail stays in front of what comes next.
  std::string chunk;
  if (!source_(chunk)) {
    source_done_ = true;
    return false;
  }
  if (in_pos_ == in_.size()) {
    in_ = std::move(chunk);
  } else {
    in_.erase(0, in_pos_);
    in_ += chunk;
  }
  in_pos_ = 0;
  return true;
}

size_t Inflow::next(const char** data) {
  if (done_) return 0;
  if (!codec_ && !source_done_) {
    // Four bytes tell the formats apart: gzip 1f 8b, zstd 28 b5 2f fd.
    while (in_.size() - in_pos_ < 4 && fill()) {
    }
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + in_pos_);
    const size_t n = in_.size() - in_pos_;
    if (gzip_magic(p, n)) {
#ifdef CRIUS_WITH_ISAL
      if (gzip_ == GzipEngine::isal) codec_ = std::make_unique<IsalGzip>();
#endif
      if (!codec_) codec_ = std::make_unique<ZlibGzip>();
    } else if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
      codec_ = std::make_unique<Zstd>();
    }
  }
  for (;;) {
    // A codec that filled the last block may hold more output without input.
    if (in_pos_ == in_.size() && !pending_ && !fill()) {
      if (codec_ && !codec_->at_boundary()) corrupt(codec_->name(), "the blob ends mid-stream");
      done_ = true;
      return 0;
    }
    if (!codec_) {  // not compressed: the bytes as they came
      *data = in_.data() + in_pos_;
      const size_t n = in_.size() - in_pos_;
      in_pos_ = in_.size();
      return n;
    }
    out_.resize(kOutBlock);
    size_t used = 0, made = 0;
    codec_->run(reinterpret_cast<const uint8_t*>(in_.data() + in_pos_), in_.size() - in_pos_, used,
                reinterpret_cast<uint8_t*>(out_.data()), out_.size(), made);
    in_pos_ += used;
    pending_ = made == out_.size();
    if (made) {
      *data = out_.data();
      return made;
    }
    // No output and input left unused: the codec needs more bytes than this tail.
    if (!used && in_pos_ < in_.size() && !fill()) corrupt(codec_->name(), "the blob ends mid-stream");
  }
}

}  // namespace crius::image
