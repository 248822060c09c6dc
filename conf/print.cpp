#include "conf/print.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "conf/load.h"

namespace crius::conf {

using Tree = nlohmann::ordered_json;

Tree config_tree(const Config& c) {
  Tree registries = Tree::array();
  for (const Registry& r : c.image.registries) {
    Tree mirrors = Tree::array();
    for (const Mirror& m : r.mirrors) mirrors.push_back({{"location", m.location}, {"insecure", m.insecure}});
    registries.push_back(
        {{"prefix", r.prefix}, {"location", r.location}, {"insecure", r.insecure}, {"mirrors", mirrors}});
  }
  Tree handlers = Tree::object();
  for (const auto& [name, h] : c.runtime.handlers) handlers[name] = {{"type", h.type}, {"path", h.path}};

  Tree t = Tree::object();
  t["root"] = c.root;
  t["state"] = c.state;
  t["listen"] = c.listen;
  t["log_level"] = c.log_level;
  t["log_format"] = c.log_format;
  t["cgroup_driver"] = c.cgroup_driver;
  t["network"] = {{"cni_config_dir", c.network.cni_config_dir},
                  {"cni_plugin_dirs", c.network.cni_plugin_dirs},
                  {"cni_plugin_timeout", format_duration(c.network.cni_plugin_timeout)}};
  t["image"] = {{"registries", registries},
                {"short_name_search", c.image.short_name_search},
                {"pull_progress_timeout", format_duration(c.image.pull_progress_timeout)},
                {"max_parallel_layers", c.image.max_parallel_layers},
                {"pinned_images", c.image.pinned_images}};
  t["runtime"] = {{"default_handler", c.runtime.default_handler},
                  {"handlers", handlers},
                  {"default_capabilities", c.runtime.default_capabilities},
                  {"pids_limit", c.runtime.pids_limit},
                  {"shm_size", c.runtime.shm_size},
                  {"cdi_spec_dirs", c.runtime.cdi_spec_dirs},
                  {"disk_usage_period", format_duration(c.runtime.disk_usage_period)}};
  t["streaming"] = {{"address", c.streaming.address},
                    {"port", c.streaming.port},
                    {"tls_cert", c.streaming.tls_cert},
                    {"tls_key", c.streaming.tls_key},
                    {"idle_timeout", format_duration(c.streaming.idle_timeout)},
                    {"max_sessions", c.streaming.max_sessions}};
  t["metrics"] = {{"enabled", c.metrics.enabled}, {"address", c.metrics.address}};
  return t;
}

namespace {

// yaml-cpp writes some control characters plain (a trailing CR), which do
// not read back the same: such strings are written double-quoted, escaped.
void emit_string(YAML::Emitter& out, const std::string& s) {
  if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) out << YAML::DoubleQuoted;
  out << s;
}

void emit(YAML::Emitter& out, const Tree& v) {
  switch (v.type()) {
    case Tree::value_t::object:
      if (v.empty()) out << YAML::Flow;  // "handlers: {}" rather than a lone "{}" line
      out << YAML::BeginMap;
      for (const auto& [k, x] : v.items()) {
        out << YAML::Key;
        emit_string(out, k);
        out << YAML::Value;
        emit(out, x);
      }
      out << YAML::EndMap;
      break;
    case Tree::value_t::array:
      if (v.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& x : v) emit(out, x);
      out << YAML::EndSeq;
      break;
    case Tree::value_t::boolean: out << v.get<bool>(); break;
    case Tree::value_t::number_integer:
    case Tree::value_t::number_unsigned: out << v.get<long long>(); break;
    case Tree::value_t::string: emit_string(out, v.get_ref<const std::string&>()); break;
    default: out << YAML::Null; break;
  }
}

}  // namespace

std::string to_yaml(const Config& c) {
  YAML::Emitter out;
  emit(out, config_tree(c));
  return std::string(out.c_str()) + "\n";
}

nlohmann::json to_json(const Config& c) { return nlohmann::json(config_tree(c)); }

std::string flow_yaml(const Tree& v) {
  YAML::Emitter out;
  out << YAML::Flow;
  emit(out, v);
  return out.c_str();
}

}  // namespace crius::conf
