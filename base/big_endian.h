// Network byte order for the length prefixes and fields of the wire
// formats we speak (the monitor's frames, SPDY).
#pragma once

#include <cstdint>
#include <string>

namespace crius {

inline uint32_t read_be32(const void* p) {
  auto b = static_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

inline void append_be32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

}  // namespace crius
