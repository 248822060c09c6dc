#include "server/streaming/spdy/frame.h"

#include <gtest/gtest.h>

#include <random>

namespace crius::streaming::spdy {
namespace {

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

std::vector<Frame> decode_all(FrameDecoder& d) {
  std::vector<Frame> out;
  while (auto f = d.next()) out.push_back(std::move(*f));
  return out;
}

Frame one(std::string_view wire) {
  FrameDecoder d;
  d.feed(wire);
  auto f = d.next();
  EXPECT_TRUE(f.has_value());
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.buffered(), 0u);
  return f.value_or(Frame{});
}

std::vector<Frame> every_type() {
  std::vector<Frame> v;
  Frame f;
  f = {}; f.type = FrameType::data; f.stream_id = 7; f.flags = kFlagFin; f.payload = "hello"; v.push_back(f);
  f = {}; f.type = FrameType::data; f.stream_id = 0x7fffffff; f.payload = ""; v.push_back(f);
  f = {}; f.type = FrameType::syn_stream; f.stream_id = 1; f.associated_id = 0; f.priority = 7; f.slot = 3;
  f.flags = kFlagFin | kFlagUnidirectional; f.payload = "block"; v.push_back(f);
  f = {}; f.type = FrameType::syn_reply; f.stream_id = 3; f.payload = "rb"; v.push_back(f);
  f = {}; f.type = FrameType::rst_stream; f.stream_id = 5; f.status = kFlowControlError; v.push_back(f);
  f = {}; f.type = FrameType::settings; f.flags = kFlagClearSettings;
  f.settings = {{1, kSettingInitialWindowSize, 1u << 20}, {0, kSettingMaxConcurrentStreams, 100}}; v.push_back(f);
  f = {}; f.type = FrameType::settings; v.push_back(f);
  f = {}; f.type = FrameType::ping; f.ping_id = 0xfffffffe; v.push_back(f);
  f = {}; f.type = FrameType::goaway; f.stream_id = 9; f.status = kGoAwayInternalError; v.push_back(f);
  f = {}; f.type = FrameType::headers; f.stream_id = 11; f.flags = kFlagFin; f.payload = "hb"; v.push_back(f);
  f = {}; f.type = FrameType::window_update; f.stream_id = 0; f.delta = kMaxWindow; v.push_back(f);
  f = {}; f.type = FrameType::window_update; f.stream_id = 13; f.delta = 1; v.push_back(f);
  return v;
}

TEST(SpdyFrame, EveryTypeRoundTrips) {
  for (const Frame& f : every_type()) {
    SCOPED_TRACE(frame_type_name(f.type));
    EXPECT_EQ(one(encode(f)), f);
  }
}

TEST(SpdyFrame, AllTypesInOneStreamFedByteByByte) {
  std::string wire;
  auto frames = every_type();
  for (const Frame& f : frames) wire += encode(f);
  FrameDecoder d;
  std::vector<Frame> got;
  for (char c : wire) {
    d.feed(std::string_view(&c, 1));
    EXPECT_LE(d.buffered(), 64u);
    while (auto f = d.next()) got.push_back(std::move(*f));
  }
  EXPECT_EQ(got, frames);
  EXPECT_EQ(d.buffered(), 0u);
}

// Byte layouts from the SPDY/3 draft, built by hand.
TEST(SpdyFrame, SynStreamFieldPositions) {
  std::string wire = bytes({0x80, 0x03, 0x00, 0x01,   // control bit, version 3, type 1
                            0x01, 0x00, 0x00, 0x0e,   // FIN, length 14
                            0x00, 0x00, 0x00, 0x05,   // stream 5
                            0x80, 0x00, 0x00, 0x03,   // associated 3 (reserved bit set: ignored)
                            0xa0, 0x09,               // priority 5 in the top 3 bits, slot 9
                            'a', 'b', 'c', 'd'});     // header block
  Frame f = one(wire);
  EXPECT_EQ(f.type, FrameType::syn_stream);
  EXPECT_EQ(f.flags, kFlagFin);
  EXPECT_EQ(f.stream_id, 5u);
  EXPECT_EQ(f.associated_id, 3u);
  EXPECT_EQ(f.priority, 5);
  EXPECT_EQ(f.slot, 9);
  EXPECT_EQ(f.payload, "abcd");
  // And our encoder writes the same bytes (with the reserved bit clear).
  std::string ours = encode_syn_stream(5, 3, 5, kFlagFin, "abcd", 9);
  wire[12] = 0x00;
  EXPECT_EQ(ours, wire);
}

TEST(SpdyFrame, FixedLayouts) {
  EXPECT_EQ(encode_data(5, "abc", kFlagFin), bytes({0, 0, 0, 5, 0x01, 0, 0, 3, 'a', 'b', 'c'}));
  EXPECT_EQ(encode_syn_reply(1, 0, "z"), bytes({0x80, 3, 0, 2, 0, 0, 0, 5, 0, 0, 0, 1, 'z'}));
  EXPECT_EQ(encode_rst_stream(3, kCancel), bytes({0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 5}));
  EXPECT_EQ(encode_settings({{0x01, kSettingInitialWindowSize, 0x10000}}),
            bytes({0x80, 3, 0, 4, 0, 0, 0, 12, 0, 0, 0, 1, 0x01, 0, 0, 7, 0, 1, 0, 0}));
  EXPECT_EQ(encode_ping(1), bytes({0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1}));
  EXPECT_EQ(encode_goaway(7, kGoAwayProtocolError), bytes({0x80, 3, 0, 7, 0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 1}));
  EXPECT_EQ(encode_headers(9, kFlagFin, "h"), bytes({0x80, 3, 0, 8, 0x01, 0, 0, 5, 0, 0, 0, 9, 'h'}));
  EXPECT_EQ(encode_window_update(0, 0x8000), bytes({0x80, 3, 0, 9, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x80, 0}));
}

TEST(SpdyFrame, EncodersRefuseWhatTheFormatCannotCarry) {
  EXPECT_THROW(encode_data(0, "x"), std::invalid_argument);
  EXPECT_THROW(encode_data(0x80000001u, "x"), std::invalid_argument);
  EXPECT_THROW(encode_data(1, std::string(1u << 24, 'x')), std::invalid_argument);
  EXPECT_THROW(encode_window_update(1, 0x80000000u), std::invalid_argument);
  EXPECT_THROW(encode_settings({{0, 0x1000000, 1}}), std::invalid_argument);
}

TEST(SpdyFrame, UnknownControlTypesAreSkipped) {
  // NOOP (5, gone in v3) and CREDENTIAL (10): ignored, as the spec says.
  std::string wire = bytes({0x80, 3, 0, 5, 0, 0, 0, 0}) + bytes({0x80, 3, 0, 10, 0, 0, 0, 3, 1, 2, 3}) +
                     encode_ping(3);
  FrameDecoder d;
  d.feed(wire);
  auto frames = decode_all(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].ping_id, 3u);
}

void expect_refused(std::string_view wire, std::string_view why, std::size_t max = kDefaultMaxPayload) {
  FrameDecoder d(max);
  d.feed(wire);
  try {
    d.next();
    ADD_FAILURE() << "accepted: " << why;
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  EXPECT_TRUE(d.failed());
  EXPECT_LE(d.buffered(), wire.size());
}

TEST(SpdyFrame, RefusesBadVersionsAndLengths) {
  expect_refused(bytes({0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1}), "version 2");
  expect_refused(bytes({0x80, 3, 0, 6, 0, 0, 0, 5, 0, 0, 0, 1, 0}), "PING frame of length 5");
  expect_refused(bytes({0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1}), "RST_STREAM frame of length 4");
  expect_refused(bytes({0x80, 3, 0, 9, 0, 0, 0, 12}), "WINDOW_UPDATE frame of length 12");
  expect_refused(bytes({0x80, 3, 0, 7, 0, 0, 0, 4, 0, 0, 0, 1}), "GOAWAY frame of length 4");
  expect_refused(bytes({0x80, 3, 0, 1, 0, 0, 0, 9}), "shorter than its fixed fields");
  expect_refused(bytes({0x80, 3, 0, 2, 0, 0, 0, 3}), "shorter than its fixed fields");
  expect_refused(bytes({0x80, 3, 0, 4, 0, 0, 0, 7}), "not 4 plus 8");
  expect_refused(bytes({0x80, 3, 0, 4, 0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 7, 0, 0, 0, 1}),
                 "claims 4294967295 entries");
  expect_refused(bytes({0, 0, 0, 0, 0, 0, 0, 1, 'x'}), "DATA frame on stream 0");
  expect_refused(bytes({0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}), "RST_STREAM for stream 0");
  expect_refused(encode_data(1, std::string(101, 'x')), "more than the limit of 100", 100);
}

// A frame announcing the largest length the format allows (16 MiB - 1) is
// refused from its 8-byte header, before a byte of body is kept.
TEST(SpdyFrame, HugeFrameRefusedBeforeItsBody) {
  FrameDecoder d;
  d.feed(bytes({0, 0, 0, 1, 0x00, 0xff, 0xff, 0xff}));
  EXPECT_TRUE(d.failed());
  EXPECT_LE(d.buffered(), kFrameHeaderSize);
  d.feed(std::string(1 << 20, 'x'));  // the body the peer sends anyway is ignored
  EXPECT_LE(d.buffered(), kFrameHeaderSize);
  EXPECT_THROW(d.next(), ProtocolError);
  // And a control frame the same.
  FrameDecoder c;
  c.feed(bytes({0x80, 3, 0, 1, 0x00, 0xff, 0xff, 0xff}));
  EXPECT_THROW(c.next(), ProtocolError);
  EXPECT_LE(c.buffered(), kFrameHeaderSize);
}

TEST(SpdyFrame, PartialFrameIsBoundedByItsLength) {
  FrameDecoder d;
  std::string wire = encode_data(1, std::string(1 << 20, 'y'));
  d.feed(wire.substr(0, wire.size() - 1));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.buffered(), wire.size() - 1);
  d.feed(wire.substr(wire.size() - 1));
  auto f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload.size(), 1u << 20);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(SpdyFrame, FramesBeforeAnErrorAreStillHandedOut) {
  FrameDecoder d;
  d.feed(encode_ping(1) + encode_ping(3) + bytes({0x80, 7, 0, 6, 0, 0, 0, 4, 0, 0, 0, 5}) + encode_ping(7));
  EXPECT_EQ(d.next()->ping_id, 1u);
  EXPECT_EQ(d.next()->ping_id, 3u);
  EXPECT_THROW(d.next(), ProtocolError);
  EXPECT_THROW(d.next(), ProtocolError);  // for good
}

TEST(SpdyFrame, GarbageNeverCrashes) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    FrameDecoder d(4096);
    d.feed(junk);
    try {
      while (d.next()) {
      }
    } catch (const ProtocolError&) {
    }
    EXPECT_LE(d.buffered(), 4096u + kFrameHeaderSize);
  }
}

}  // namespace
}  // namespace crius::streaming::spdy
