#include "conf/diff.h"

#include <set>

#include "conf/keys.h"
#include "conf/print.h"

namespace crius::conf {

std::vector<Change> diff(const Config& before, const Config& after) {
  // Walking the printed trees along the key table covers every key, including
  // ones added later, with no per-key code here.
  const nlohmann::ordered_json a = config_tree(before), b = config_tree(after);
  std::vector<Change> out;
  for (const Key& k : config_keys()) {
    std::string pointer = "/" + std::string(k.path);
    for (char& c : pointer)
      if (c == '.') c = '/';
    const nlohmann::ordered_json::json_pointer at(pointer);
    const auto& x = a.at(at);
    const auto& y = b.at(at);
    if (x == y) continue;
    const std::string key(k.path);
    if (!x.is_object() || !y.is_object()) {
      out.push_back({key, flow_yaml(x), flow_yaml(y)});
      continue;
    }
    std::set<std::string> names;
    for (const auto& [name, v] : x.items()) names.insert(name);
    for (const auto& [name, v] : y.items()) names.insert(name);
    for (const auto& name : names) {
      const bool in_x = x.contains(name), in_y = y.contains(name);
      if (in_x && in_y && x.at(name) == y.at(name)) continue;
      out.push_back({key + "." + name, in_x ? flow_yaml(x.at(name)) : "", in_y ? flow_yaml(y.at(name)) : ""});
    }
  }
  return out;
}

}  // namespace crius::conf
