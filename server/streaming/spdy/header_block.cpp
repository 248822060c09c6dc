#include "server/streaming/spdy/header_block.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "base/big_endian.h"
#include "server/streaming/spdy/frame.h"

namespace crius::streaming::spdy {
namespace {

uint32_t get32(const char* p) { return read_be32(p); }
void put32(std::string& out, uint32_t v) { append_be32(out, v); }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The dictionary is a run of length-prefixed words, as a header block would
// carry them, followed by plain text (status codes, reason phrases, dates,
// media types) that has no prefixes. Built here from its parts.
std::string build_dictionary() {
  static const char* const words[] = {
      "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
      "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
      "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
      "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
      "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
      "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
      "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
      "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
      "set-cookie", "keep-alive", "origin"};
  static const char* const text[] = {
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
      "203 Non-Authoritative Information", "204 No Content", "301 Moved Permanently", "400 Bad Request",
      "401 Unauthorized", "403 Forbidden", "404 Not Found", "500 Internal Server Error", "501 Not Implemented",
      "503 Service Unavailable",
      "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT",
      // One entry split over two lines (the parentheses say so to clang).
      ("chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
       "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")};
  std::string d;
  for (const char* w : words) {
    put32(d, static_cast<uint32_t>(std::string_view(w).size()));
    d += w;
  }
  for (const char* t : text) d += t;
  return d;
}

}  // namespace

const std::string& header_dictionary() {
  static const std::string dict = build_dictionary();
  return dict;
}

std::string serialize_headers(const Headers& headers) {
  // Group values by lowercased name, keeping the order names first appear.
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [name, value] : headers) {
    std::string n = lower(name);
    auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == n; });
    if (it == entries.end()) {
      entries.emplace_back(std::move(n), value);
    } else {
      it->second.push_back('\0');
      it->second += value;
    }
  }
  std::string out;
  put32(out, static_cast<uint32_t>(entries.size()));
  for (const auto& [name, value] : entries) {
    put32(out, static_cast<uint32_t>(name.size()));
    out += name;
    put32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  return out;
}

Headers parse_headers(std::string_view block) {
  auto take32 = [&](const char* what) {
    if (block.size() < 4) throw ProtocolError("header block truncated before the " + std::string(what));
    uint32_t v = get32(block.data());
    block.remove_prefix(4);
    return v;
  };
  auto take = [&](uint32_t n, const char* what) {
    if (n > block.size()) {
      throw ProtocolError("header block " + std::string(what) + " length " + std::to_string(n) +
                          " exceeds the " + std::to_string(block.size()) + " bytes left");
    }
    std::string_view s = block.substr(0, n);
    block.remove_prefix(n);
    return s;
  };
  uint32_t count = take32("entry count");
  // Each entry needs at least its two lengths: a count beyond that is a lie.
  if (count > block.size() / 8) {
    throw ProtocolError("header block claims " + std::to_string(count) + " entries in " +
                        std::to_string(block.size()) + " bytes");
  }
  Headers out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view name = take(take32("name length"), "name");
    if (name.empty()) throw ProtocolError("header block has an empty name");
    std::string_view value = take(take32("value length"), "value");
    std::string n = lower(name);
    for (;;) {
      auto nul = value.find('\0');
      out.emplace_back(n, std::string(value.substr(0, nul)));
      if (nul == std::string_view::npos) break;
      value.remove_prefix(nul + 1);
    }
  }
  if (!block.empty()) {
    throw ProtocolError("header block has " + std::to_string(block.size()) + " bytes after its last entry");
  }
  return out;
}

std::string header_value(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

struct HeaderDeflater::State {
  z_stream z{};
};

HeaderDeflater::HeaderDeflater() : z_(std::make_unique<State>()) {
  // A 2 KiB window and small memLevel: header blocks are small, and this
  // keeps a connection's compressor near 24 KiB instead of 256 KiB. Any
  // standard inflater reads the result.
  if (deflateInit2(&z_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 11, 5, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("spdy: deflateInit2 failed");
  }
  const std::string& d = header_dictionary();
  if (deflateSetDictionary(&z_->z, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())) != Z_OK) {
    deflateEnd(&z_->z);
    throw std::runtime_error("spdy: deflateSetDictionary failed");
  }
}

HeaderDeflater::~HeaderDeflater() { deflateEnd(&z_->z); }

std::string HeaderDeflater::compress(const Headers& headers) { return compress_raw(serialize_headers(headers)); }

std::string HeaderDeflater::compress_raw(std::string_view block) {
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z.avail_in = static_cast<uInt>(block.size());
  std::string out;
  char buf[4096];
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = deflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("spdy: deflate failed: " + std::to_string(rc));
    out.append(buf, sizeof buf - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

struct HeaderInflater::State {
  z_stream z{};
  bool broken = false;
};

HeaderInflater::HeaderInflater(std::size_t max_bytes) : z_(std::make_unique<State>()), max_bytes_(max_bytes) {
  if (inflateInit(&z_->z) != Z_OK) throw std::runtime_error("spdy: inflateInit failed");
}

HeaderInflater::~HeaderInflater() { inflateEnd(&z_->z); }

Headers HeaderInflater::decompress(std::string_view compressed) {
  if (compressed.empty()) return {};
  return parse_headers(inflate(compressed));
}

std::string HeaderInflater::inflate(std::string_view compressed) {
  if (z_->broken) throw ProtocolError("header decompression failed earlier on this connection");
  z_->broken = true;  // until this block decodes cleanly
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buf[4096];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = ::inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const std::string& d = header_dictionary();
      if (inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())) != Z_OK) {
        throw ProtocolError("header block asks for a zlib dictionary other than SPDY/3's");
      }
      continue;
    }
    std::size_t produced = sizeof buf - z.avail_out;
    if (out.size() + produced > max_bytes_) {
      throw ProtocolError("header block inflates to more than " + std::to_string(max_bytes_) + " bytes");
    }
    out.append(buf, produced);
    if (rc == Z_STREAM_END) throw ProtocolError("header compression stream ended; SPDY keeps it open");
    if (rc == Z_BUF_ERROR) {
      if (z.avail_in == 0) break;  // all input used, nothing more to give
      throw ProtocolError("header block inflate made no progress");
    }
    if (rc != Z_OK) {
      throw ProtocolError(std::string("header block is not valid zlib data: ") + (z.msg ? z.msg : std::to_string(rc)));
    }
    if (z.avail_in == 0 && z.avail_out != 0) break;
  }
  z_->broken = false;
  return out;
}

}  // namespace crius::streaming::spdy
