// SPDY/3 name/value header blocks: the uncompressed layout (a 32-bit count,
// then per entry a 32-bit length and the name, a 32-bit length and the
// value) and its zlib compression, primed with the dictionary the SPDY/3
// draft defines. Each direction of a connection is one zlib stream that
// lives as long as the connection, flushed with Z_SYNC_FLUSH after every
// block, so a HeaderDeflater or HeaderInflater belongs to one connection
// direction and must see every block of it, in order.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crius::streaming::spdy {

// Lowercase names. In a block several values of one name travel as one
// entry with NUL between them; here each value is its own pair.
using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::size_t kDefaultMaxHeaderBytes = 256 * 1024;

// The SPDY/3 zlib dictionary (1423 bytes).
const std::string& header_dictionary();

// The uncompressed block. Values of the same name are joined with NUL into
// one entry, in first-seen order; names are lowercased.
std::string serialize_headers(const Headers& headers);
// Parses an uncompressed block; throws ProtocolError when the counts or
// lengths do not fit in it, a name is empty, or bytes follow the last entry.
Headers parse_headers(std::string_view block);

// The first value of `name` (lowercase), or "" when absent.
std::string header_value(const Headers& headers, std::string_view name);

// Compresses blocks on one connection direction.
class HeaderDeflater {
 public:
  HeaderDeflater();
  ~HeaderDeflater();
  HeaderDeflater(const HeaderDeflater&) = delete;
  HeaderDeflater& operator=(const HeaderDeflater&) = delete;

  std::string compress(const Headers& headers);
  // Compresses an already serialized block (tests use it to send odd ones).
  std::string compress_raw(std::string_view block);

 private:
  struct State;
  std::unique_ptr<State> z_;
};

// Decompresses blocks on one connection direction. Any failure leaves the
// zlib stream unusable: the connection has to end (a session error).
class HeaderInflater {
 public:
  explicit HeaderInflater(std::size_t max_bytes = kDefaultMaxHeaderBytes);
  ~HeaderInflater();
  HeaderInflater(const HeaderInflater&) = delete;
  HeaderInflater& operator=(const HeaderInflater&) = delete;

  Headers decompress(std::string_view compressed);
  // The uncompressed block, at most max_bytes, without parsing it.
  std::string inflate(std::string_view compressed);

 private:
  struct State;
  std::unique_ptr<State> z_;
  std::size_t max_bytes_;
};

}  // namespace crius::streaming::spdy
