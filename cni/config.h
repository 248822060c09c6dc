// CNI network configuration: the first valid config file (by name) in the
// config directory, as a network list. `.conflist` files are lists already;
// `.conf` and `.json` files hold one plugin and are wrapped into a list.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::cni {

// The cniVersion values crius speaks (0.3.0 through 1.1.0).
bool supported_version(const std::string& v);
// Whether version `v` (supported) is at least `min` ("0.4.0": CHECK and prevResult on DEL).
bool version_at_least(const std::string& v, const std::string& min);

struct NetworkList {
  std::string file;  // where it was read from
  std::string name;
  std::string cni_version;
  bool disable_check = false;
  std::vector<nlohmann::json> plugins;  // each has a string "type"

  nlohmann::json to_json() const;  // the list form, for the cache
  static NetworkList from_json(const nlohmann::json&, const std::string& file);
};

// Parses one config file's text. Throws crius::Error (InvalidArgument) naming
// the file and what is wrong.
NetworkList parse_network(const std::string& text, const std::string& file);

// The first valid network in `dir` (files ending .conflist, .conf, .json, in
// name order), or nothing, with `problem` saying why (no file, or each
// file's reason for being skipped).
struct Loaded {
  std::optional<NetworkList> network;
  std::string problem;
};
Loaded load_first(const std::string& dir);

// The plugin binary `type` in the first of `dirs` that has it, or "".
std::string find_plugin(const std::string& type, const std::vector<std::string>& dirs);

}  // namespace crius::cni
