#include "image/pull/decompress.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

#include "base/error.h"

namespace crius::image {
namespace {

std::string gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Compressible but not trivially: words from a small vocabulary.
std::string text(size_t n, unsigned seed) {
  static const char* const kWords[] = {"layer ", "overlay ", "pod ", "container\n", "crius ", "tar ", "0123456789 "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 7];
  s.resize(n);
  return s;
}

// Everything Inflow yields, the blob fed in chunks of `chunk` bytes.
std::string inflate_all(const std::string& blob, size_t chunk, GzipEngine engine, std::string* format = nullptr) {
  size_t at = 0;
  ChunkSource source = [&](std::string& c) {
    if (at >= blob.size()) return false;
    c = blob.substr(at, chunk);
    at += c.size();
    return true;
  };
  Inflow in(source, engine);
  std::string out;
  const char* data;
  while (size_t n = in.next(&data)) out.append(data, n);
  EXPECT_EQ(in.next(&data), 0u);  // stays at the end
  if (format) *format = in.format();
  return out;
}

std::vector<GzipEngine> engines() {
  std::vector<GzipEngine> e{GzipEngine::zlib};
  if (best_gzip_engine() == GzipEngine::isal) e.push_back(GzipEngine::isal);
  return e;
}

TEST(Inflow, EveryFormatInAnyChunkingGivesTheSameBytes) {
  // Over a megabyte, so that output blocks fill and the codec must flush
  // what it holds without new input.
  const std::string plain = text(3 << 20, 1);
  for (GzipEngine engine : engines()) {
    for (size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{7}}) {
      const std::string big = chunk < 64 ? plain.substr(0, 200000) : plain;
      std::string format;
      EXPECT_EQ(inflate_all(gzip(big), chunk, engine, &format), big) << chunk;
      EXPECT_EQ(format, "gzip");
      EXPECT_EQ(inflate_all(zstd(big), chunk, engine, &format), big) << chunk;
      EXPECT_EQ(format, "zstd");
      EXPECT_EQ(inflate_all(big, chunk, engine, &format), big) << chunk;
      EXPECT_EQ(format, "none");
    }
  }
  EXPECT_EQ(inflate_all("", 10, GzipEngine::zlib), "");
  EXPECT_EQ(inflate_all("ab", 1, GzipEngine::zlib), "ab");  // shorter than any magic
}

TEST(Inflow, ConcatenatedMembersAndFramesAreOneStream) {
  const std::string a = text(100000, 2), b = text(5000, 3), c = text(300000, 4);
  for (GzipEngine engine : engines()) {
    EXPECT_EQ(inflate_all(gzip(a) + gzip(b) + gzip(c), 1000, engine), a + b + c);
    EXPECT_EQ(inflate_all(gzip(a) + gzip(""), 333, engine), a);
    // Bytes after the last member that start no other one are ignored, as gzip -d does.
    EXPECT_EQ(inflate_all(gzip(a) + std::string(1024, '\0'), 100, engine), a);
  }
  EXPECT_EQ(inflate_all(zstd(a) + zstd(b) + zstd(c), 999, GzipEngine::zlib), a + b + c);
}

TEST(Inflow, CorruptOrTruncatedDataIsInvalidArgumentNamingTheFormat) {
  const std::string plain = text(200000, 5);
  auto fails = [](const std::string& blob, GzipEngine engine, const std::string& format) {
    try {
      inflate_all(blob, 4096, engine);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
      EXPECT_NE(std::string(e.what()).find("(" + format + ")"), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << format << ": accepted";
  };
  for (GzipEngine engine : engines()) {
    const std::string g = gzip(plain);
    fails(g.substr(0, g.size() / 2), engine, "gzip");
    fails(g.substr(0, g.size() - 4), engine, "gzip");  // no size in the trailer
    std::string flipped = g;
    flipped[g.size() - 6] ^= 0x55;  // the CRC-32 no longer matches
    fails(flipped, engine, "gzip");
    std::string garbled = g;
    for (size_t i = 20; i < 60; ++i) garbled[i] = static_cast<char>(0xff);
    fails(garbled, engine, "gzip");
  }
  const std::string z = zstd(plain);
  fails(z.substr(0, z.size() / 2), GzipEngine::zlib, "zstd");
  fails(z + "trailing", GzipEngine::zlib, "zstd");
}

TEST(Inflow, TheSourcesErrorsPassThrough) {
  const std::string g = gzip(text(100000, 6));
  bool first = true;
  ChunkSource source = [&](std::string& c) {
    if (!first) throw DeadlineExceeded("stalled");
    first = false;
    c = g.substr(0, 1000);
    return true;
  };
  Inflow in(source);
  const char* data;
  try {
    while (in.next(&data)) {
    }
    ADD_FAILURE() << "the source's error was lost";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::deadline_exceeded) << e.what();
  }
}

}  // namespace
}  // namespace crius::image
