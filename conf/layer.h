// One layer of config (a file, a drop-in, a flag) applied over the ones before
// it, and the checks run once all layers are merged. Internal to conf/.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "conf/config.h"

namespace crius::conf {

// Which source last set each key, so that a check made after merging can
// name the file or flag to fix. Keys are paths: "image.registries[0].location".
class Origins {
 public:
  // `key` and everything under it now come from `source`.
  void set(const std::string& key, const std::string& source);
  // `key` was mentioned by `source`; what is under it keeps its own origin.
  void note(const std::string& key, const std::string& source);
  // The source of the nearest recorded key at or above `key`; "config" for a
  // built-in default.
  std::string source_of(const std::string& key) const;

 private:
  void erase(const std::string& key);
  std::map<std::string, std::string> by_key_;
};

// Applies `top` (a mapping, or null for an empty file) over `config`: sections
// merge key by key, runtime.handlers by name (and field by field), lists and
// scalars replace, a null value leaves a key as it was. Throws
// ConfigError "<source>: <key>: <reason>" for an unknown key or a wrong type.
void apply_layer(const YAML::Node& top, const std::string& source, Config& config, Origins& origins);

// `text` in double quotes, control characters escaped, for error messages.
std::string in_quotes(std::string_view text);

// Checks the merged config; throws ConfigError with one line per problem.
void validate(const Config& config, const Origins& origins);

}  // namespace crius::conf
