// Fuzzes the monitor protocol's decoders: length-prefixed CBOR requests as
// the monitor reads them from a client (detail::Connection::receive and
// next_request over a real socketpair), one CBOR body (protocol::decode, as
// the daemon reads a response), and stream frames (protocol::FrameReader,
// fed in pieces as they arrive).
// Invariants: decode returns a map or throws InvalidArgument, and a decoded
// message encodes to a frame whose body decodes and encodes the same again;
// a connection never hands out a request once it refused one (close_after),
// and every request it hands out is a map; the frame reader never holds
// more than the bytes fed to it, yields payloads within its limit that
// re-encode to exactly the bytes consumed, and refuses only with
// InvalidArgument.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "base/error.h"
#include "base/fd.h"
#include "oci/monitor/connection.h"
#include "oci/monitor/protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace protocol = crius::oci::monitor::protocol;
using nlohmann::json;

void fuzz_decode(std::string_view in) {
  json j;
  try {
    j = protocol::decode(in);
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
    return;
  }
  CRIUS_FUZZ_CHECK(j.is_object());
  std::string once;
  try {
    once = protocol::encode(j);
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::resource_exhausted);
    return;
  }
  CRIUS_FUZZ_CHECK(protocol::frame_length(reinterpret_cast<const unsigned char*>(once.data())) == once.size() - 4);
  CRIUS_FUZZ_CHECK(protocol::encode(protocol::decode(std::string_view(once).substr(4))) == once);
}

void fuzz_connection(std::string_view in) {
  if (in.size() > (64u << 10)) return;  // what one socket buffer surely takes
  int sv[2];
  CRIUS_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  crius::Fd peer(sv[1]);
  crius::oci::monitor::detail::Connection c(1, crius::Fd(sv[0]), [](auto*, uint32_t) {});
  // In two writes, with a receive between them, as bytes trickle in.
  const size_t half = in.size() / 2;
  for (std::string_view part : {in.substr(0, half), in.substr(half)}) {
    if (!part.empty()) CRIUS_FUZZ_CHECK(::write(peer.get(), part.data(), part.size()) == static_cast<ssize_t>(part.size()));
    CRIUS_FUZZ_CHECK(c.receive());
    while (auto request = c.next_request()) {
      CRIUS_FUZZ_CHECK(!c.close_after);
      CRIUS_FUZZ_CHECK(request->is_object());
    }
  }
  if (c.close_after) CRIUS_FUZZ_CHECK(c.has_output() && !c.next_request());
}

void fuzz_frames(std::string_view in) {
  protocol::FrameReader reader(64 << 10);
  const size_t step = in.empty() ? 1 : 1 + static_cast<unsigned char>(in[0]) % 23;
  size_t consumed = 0;
  for (size_t pos = 0; pos < in.size(); pos += step) {
    reader.feed(in.substr(pos, step));
    CRIUS_FUZZ_CHECK(reader.buffered() <= in.size() - consumed);
    try {
      while (auto f = reader.next()) {
        CRIUS_FUZZ_CHECK(f->payload.size() <= (64u << 10));
        const std::string again = protocol::encode_frame(f->channel, f->payload);
        CRIUS_FUZZ_CHECK(in.substr(consumed, again.size()) == again);
        consumed += again.size();
      }
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = crius::fuzz::text(data, size);
  fuzz_decode(in);
  fuzz_connection(in);
  fuzz_frames(in);
  return 0;
}
