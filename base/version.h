// The crius version, set by CMake from project(VERSION).
#pragma once

namespace crius {
inline constexpr const char* kVersion = CRIUS_VERSION;
}
