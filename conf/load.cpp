// Assembling the effective config: main file, drop-ins, flags, computed
// defaults, validation.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "conf/keys.h"
#include "conf/layer.h"
#include "conf/load.h"

namespace crius::conf {
namespace fs = std::filesystem;

namespace {

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null() ? source
                                         : source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                               std::to_string(e.mark.column + 1);
    throw ConfigError(where + ": invalid YAML: " + e.msg);
  }
  if (docs.size() > 1)
    throw ConfigError(source + ": expected one YAML document, found " + std::to_string(docs.size()));
  return docs.empty() ? YAML::Node() : docs.front();
}

void apply_file(const fs::path& file, Config& config, Origins& origins) {
  const std::string source = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw ConfigError(source + ": cannot read config file: is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(source + ": cannot read config file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(source + ": cannot read config file: " + std::strerror(errno));
  apply_layer(parse_yaml(text.str(), source), source, config, origins);
}

// The *.yaml files of the drop-in directory, in byte-wise name order.
std::vector<fs::path> drop_ins(const fs::path& dir) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) return {};
  if (ec) throw ConfigError(dir.string() + ": cannot read drop-in directory: " + ec.message());
  if (!fs::is_directory(st)) throw ConfigError(dir.string() + ": drop-in directory is not a directory");
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code type_ec;
    // A directory named *.yaml is skipped; a broken link is read, and reported.
    if (p.extension() == ".yaml" && !it->is_directory(type_ec)) files.push_back(p);
  }
  if (ec) throw ConfigError(dir.string() + ": cannot read drop-in directory: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return files;
}

// A flag as the one-key YAML document it stands for, so that it goes through
// the same decoding and checks as a file.
YAML::Node flag_layer(const std::string& flag, const std::string& value) {
  const Key* key = find_flag(flag);
  if (!key) throw ConfigError(flag + ": unknown flag");
  YAML::Node v;
  if (key->value == FlagValue::text) {
    v = YAML::Node(value);
  } else if (key->value == FlagValue::list && !trim(value).starts_with('[')) {
    v = YAML::Node(YAML::NodeType::Sequence);
    if (!value.empty())
      for (const std::string& item : split(value, ',')) v.push_back(trim(item));
  } else {
    try {
      v = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw ConfigError(flag + ": invalid YAML: " + e.msg);
    }
    if (v.IsNull()) throw ConfigError(flag + ": missing value");
  }
  YAML::Node top;
  std::string path(key->path);
  if (auto dot = path.find('.'); dot != std::string::npos)
    top[path.substr(0, dot)][path.substr(dot + 1)] = v;
  else
    top[path] = v;
  return top;
}

}  // namespace

bool systemd_is_init() {
  std::error_code ec;
  return fs::is_directory("/run/systemd/system", ec);
}

Config load(const Options& opts, SystemdProbe systemd_booted) {
  Config config;
  Origins origins;

  // Without --config, a missing main file means built-in defaults; anything
  // else wrong with it (permissions, a directory) is still an error.
  std::error_code ec;
  if (opts.config_file_explicit || fs::status(opts.config_file, ec).type() != fs::file_type::not_found)
    apply_file(opts.config_file, config, origins);

  fs::path dir = opts.config_dir;
  if (dir.empty()) dir = fs::path(opts.config_file).parent_path() / "crius.d";
  for (const fs::path& file : drop_ins(dir)) apply_file(file, config, origins);

  for (const auto& [flag, value] : opts.overrides) apply_layer(flag_layer(flag, value), flag, config, origins);

  if (config.listen.starts_with("unix://")) config.listen.erase(0, std::strlen("unix://"));
  if (config.listen.empty()) {
    config.listen = (fs::path(config.state) / "crius.sock").string();
    origins.set("listen", origins.source_of("state"));
  }
  if (config.cgroup_driver.empty()) config.cgroup_driver = systemd_booted() ? "systemd" : "cgroupfs";

  validate(config, origins);
  return config;
}

}  // namespace crius::conf
