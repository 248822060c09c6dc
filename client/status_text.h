// The documents of status_json.h rendered for a person: aligned tables for
// the lists, "Key: value" lines for one item, YAML for the config. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/status_json.h"

namespace crius::client {

// 1536 → "1.5 KiB"; below 1 KiB, "512 B".
std::string human_bytes(uint64_t bytes);
// Columns padded to their widest cell, two spaces apart; the first row is the header.
std::string table(const std::vector<std::vector<std::string>>& rows);
// A value in YAML block style (keys in document order); a string that YAML
// would read as something else is quoted.
std::string yaml_text(const Doc& value);

std::string info_text(const Doc& info);
std::string config_text(const Doc& config);
std::string containers_text(const Doc& containers);
std::string container_text(const Doc& container);
std::string pods_text(const Doc& pods);
std::string pod_text(const Doc& pod);
std::string images_text(const Doc& images);

}  // namespace crius::client
