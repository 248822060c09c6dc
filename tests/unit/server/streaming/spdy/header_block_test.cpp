#include "server/streaming/spdy/header_block.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "server/streaming/spdy/frame.h"

namespace crius::streaming::spdy {
namespace {

std::string be32(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
  return s;
}

// zlib used directly, the way another SPDY implementation would: level 9,
// a 32 KiB window, the dictionary set before the first byte.
std::string independent_deflate(const std::vector<std::string>& blocks, std::vector<std::string>* per_block) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string& d = header_dictionary();
  EXPECT_EQ(deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())), Z_OK);
  std::string all;
  for (const auto& b : blocks) {
    std::string out(b.size() + 1024, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data()));
    z.avail_in = static_cast<uInt>(b.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    out.resize(out.size() - z.avail_out);
    per_block->push_back(out);
    all += out;
  }
  deflateEnd(&z);
  return all;
}

TEST(SpdyHeaderBlock, DictionaryIsTheSpdy3One) {
  const std::string& d = header_dictionary();
  ASSERT_EQ(d.size(), 1423u);
  EXPECT_EQ(d.substr(0, 11), std::string("\0\0\0\x07options", 11));
  EXPECT_EQ(d.substr(d.size() - 6), "enq=0.");
  // The checksum zlib writes into every SPDY/3 stream header (FDICT).
  EXPECT_EQ(adler32(1, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())), 0xe3c6a7c2u);
}

TEST(SpdyHeaderBlock, SerializedLayout) {
  Headers h = {{"Streamtype", "stdout"}, {"a", "1"}, {"a", "2"}};
  std::string want = be32(2) + be32(10) + "streamtype" + be32(6) + "stdout" + be32(1) + "a" + be32(3) +
                     std::string("1\0" "2", 3);
  EXPECT_EQ(serialize_headers(h), want);
  Headers back = parse_headers(want);
  Headers expect = {{"streamtype", "stdout"}, {"a", "1"}, {"a", "2"}};
  EXPECT_EQ(back, expect);
  EXPECT_EQ(header_value(back, "a"), "1");
  EXPECT_EQ(header_value(back, "missing"), "");
}

TEST(SpdyHeaderBlock, RoundTripAcrossFramesSharesOneContext) {
  HeaderDeflater out;
  HeaderInflater in;
  std::vector<Headers> blocks = {
      {{"streamtype", "error"}, {"requestid", "0"}},
      {{"streamtype", "stdout"}, {"requestid", "0"}},
      {{"streamtype", "stderr"}, {"requestid", "0"}},
      {},
      {{"port", "8080"}, {"streamtype", "data"}, {"requestid", "1"}},
  };
  std::vector<std::size_t> sizes;
  for (const auto& h : blocks) {
    std::string c = out.compress(h);
    sizes.push_back(c.size());
    EXPECT_EQ(in.decompress(c), h);
  }
  // The later blocks lean on what the stream has seen.
  EXPECT_LT(sizes[2], sizes[0]);
}

TEST(SpdyHeaderBlock, DecodesWhatPlainZlibWithTheDictionaryMakes) {
  std::vector<std::string> blocks = {
      serialize_headers({{"streamtype", "stdin"}, {"x-note", "one"}}),
      serialize_headers({{"streamtype", "resize"}}),
  };
  std::vector<std::string> compressed;
  independent_deflate(blocks, &compressed);
  // Starts with a zlib header that asks for a preset dictionary.
  ASSERT_GE(compressed[0].size(), 6u);
  EXPECT_TRUE(static_cast<unsigned char>(compressed[0][1]) & 0x20);
  EXPECT_EQ(compressed[0].substr(2, 4), be32(0xe3c6a7c2u));
  HeaderInflater in;
  EXPECT_EQ(in.inflate(compressed[0]), blocks[0]);
  EXPECT_EQ(in.inflate(compressed[1]), blocks[1]);
}

TEST(SpdyHeaderBlock, OurOutputInflatesWithPlainZlib) {
  HeaderDeflater out;
  std::string block = serialize_headers({{"streamtype", "stdout"}});
  std::string c = out.compress_raw(block);
  z_stream z{};
  ASSERT_EQ(inflateInit(&z), Z_OK);
  std::string buf(4096, '\0');
  z.next_in = reinterpret_cast<Bytef*>(c.data());
  z.avail_in = static_cast<uInt>(c.size());
  z.next_out = reinterpret_cast<Bytef*>(buf.data());
  z.avail_out = static_cast<uInt>(buf.size());
  ASSERT_EQ(inflate(&z, Z_SYNC_FLUSH), Z_NEED_DICT);
  const std::string& d = header_dictionary();
  ASSERT_EQ(inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())), Z_OK);
  ASSERT_EQ(inflate(&z, Z_SYNC_FLUSH), Z_OK);
  buf.resize(buf.size() - z.avail_out);
  inflateEnd(&z);
  EXPECT_EQ(buf, block);
}

TEST(SpdyHeaderBlock, WrongDictionaryIsRefused) {
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, 6), Z_OK);
  std::string dict = "some other dictionary";
  deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size()));
  std::string block = serialize_headers({{"a", "b"}});
  std::string out(1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(block.data());
  z.avail_in = static_cast<uInt>(block.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  HeaderInflater in;
  EXPECT_THROW(in.decompress(out), ProtocolError);
  // The stream is now unusable, and says so.
  EXPECT_THROW(in.decompress(HeaderDeflater().compress({{"a", "b"}})), ProtocolError);
}

TEST(SpdyHeaderBlock, ZipBombIsRefused) {
  HeaderDeflater out;
  // 8 MiB of one byte compresses to a few KiB.
  std::string c = out.compress({{"x", std::string(8u << 20, 'a')}});
  EXPECT_LT(c.size(), 64u * 1024);
  HeaderInflater in(256 * 1024);
  try {
    in.decompress(c);
    FAIL() << "accepted a block that inflates to 8 MiB";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 262144"), std::string::npos) << e.what();
  }
}

TEST(SpdyHeaderBlock, GarbageIsRefused) {
  HeaderInflater in;
  EXPECT_THROW(in.decompress(std::string("\x78\xbb not zlib at all", 18)), ProtocolError);
  HeaderInflater in2;
  EXPECT_THROW(in2.decompress("plain text"), ProtocolError);
}

void expect_bad_block(const std::string& block, std::string_view why) {
  try {
    parse_headers(block);
    ADD_FAILURE() << "accepted: " << why;
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(SpdyHeaderBlock, BadCountsAndLengthsAreRefused) {
  expect_bad_block("", "truncated before the entry count");
  expect_bad_block(be32(0xffffffffu), "claims 4294967295 entries in 0 bytes");
  expect_bad_block(be32(2) + be32(1) + "a" + be32(1) + "b", "claims 2 entries");
  expect_bad_block(be32(1) + be32(0xffffffffu) + "abcd", "name length 4294967295 exceeds");
  expect_bad_block(be32(1) + be32(1) + "a" + be32(0xfffffff0u) + "b", "value length 4294967280 exceeds");
  expect_bad_block(be32(1) + be32(1) + "a" + be32(1) + "b" + "extra", "after its last entry");
  expect_bad_block(be32(1) + be32(0) + be32(1) + "b", "empty name");
  expect_bad_block(be32(1) + be32(1) + "a", "claims 1 entries in 5 bytes");
  expect_bad_block(be32(1) + be32(1) + "a" + "xyz", "truncated before the value length");
  // A truncated compressed block inflates to a truncated block.
  HeaderDeflater out;
  std::string c = out.compress({{"streamtype", "stdout"}, {"requestid", "12345"}});
  HeaderInflater in;
  EXPECT_THROW(in.decompress(c.substr(0, c.size() / 2)), ProtocolError);
}

TEST(SpdyHeaderBlock, NamesAreLowercasedOnTheWayIn) {
  Headers h = parse_headers(be32(1) + be32(10) + "StreamType" + be32(5) + "stdin");
  EXPECT_EQ(header_value(h, "streamtype"), "stdin");
}

}  // namespace
}  // namespace crius::streaming::spdy
