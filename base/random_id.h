// Random identifiers from the kernel's CSPRNG (getrandom).
#pragma once

#include <cstddef>
#include <string>

namespace crius {

// 2*bytes lowercase hex digits: 32 bytes make a 64-digit sandbox or container ID.
std::string random_hex(size_t bytes);

}  // namespace crius
