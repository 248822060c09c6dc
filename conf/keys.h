// The table of config keys: the flag that overrides each, how the flag's
// value is read, and what --help says about it. Internal to conf/.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace crius::conf {

// How a flag's text becomes the YAML value of its key.
enum class FlagValue {
  text,  // taken as is (paths, names, addresses: no YAML surprises with ':' or '[')
  list,  // comma-separated, or a YAML list when it starts with '['
  yaml,  // parsed as YAML (numbers, booleans, durations, lists and maps of records)
};

struct Key {
  std::string_view path;          // "network.cni_plugin_dirs"
  FlagValue value;
  std::string_view meta;          // the value's placeholder in --help
  std::string_view help;
  std::string_view default_note = "";  // shown instead of the default when load() computes it
  std::string_view alias = "";         // a shorter flag for the same key
};

// Every key, in the order of config.h.
std::span<const Key> config_keys();

// "network.cni_plugin_dirs" -> "--network-cni-plugin-dirs".
std::string flag_for(std::string_view key_path);

// The key a flag overrides (its own name or a short alias), or nullptr.
const Key* find_flag(std::string_view flag);

}  // namespace crius::conf
