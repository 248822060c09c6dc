// Assembling the effective config: main file, drop-ins, flags, computed
// defaults, validation.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "base/strings.h"
#include "conf/keys.h"
#include "conf/layer.h"
#include "conf/load.h"

namespace crius::conf {
namespace fs = std::filesystem;

namespace {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

// YAML is Unicode text: every key and scalar must be UTF-8 (raw bytes and
// escaped lone surrogates are refused), so that the config always prints,
// as YAML and as JSON. Nesting is bounded, aliases included.
void require_utf8(const YAML::Node& n, const std::string& source, int depth = 0) {
  if (depth > 64) throw ConfigError(source + ": nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      if (!valid_utf8(n.Scalar())) throw ConfigError(source + ": " + in_quotes(n.Scalar()) + ": not valid UTF-8");
      break;
    case YAML::NodeType::Sequence:
      for (const auto& item : n) require_utf8(item, source, depth + 1);
      break;
    case YAML::NodeType::Map:
      for (const auto& kv : n) {
        require_utf8(kv.first, source, depth + 1);
        require_utf8(kv.second, source, depth + 1);
      }
      break;
    default:
      break;
  }
}

// Sees a document's events and keeps nothing: counting documents only.
struct DocumentCounter : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// How many documents `text` holds, counted up to `cap`. Not YAML::LoadAll:
// on some input (a stray "," at the start) yaml-cpp's parser yields empty
// documents forever, and LoadAll never returns.
size_t count_documents(const std::string& text, size_t cap) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  size_t n = 0;
  while (n < cap && parser.HandleNextDocument(counter)) ++n;
  return n;
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  constexpr size_t kCap = 16;
  size_t docs = 0;
  YAML::Node doc;
  try {
    docs = count_documents(text, kCap);
    if (docs == 1) doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null() ? source
                                         : source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                               std::to_string(e.mark.column + 1);
    throw ConfigError(where + ": invalid YAML: " + e.msg);
  }
  if (docs > 1)
    throw ConfigError(source + ": expected one YAML document, found " + (docs == kCap ? "at least " : "") +
                      std::to_string(docs));
  if (docs == 0) return YAML::Node();
  require_utf8(doc, source);
  return doc;
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
  require_utf8(v, flag);
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
  if (opts.user) {
    config.root = opts.user->root;
    config.state = opts.user->state;
    // A user's own crius has no system bus to ask for cgroups.
    config.cgroup_driver = "cgroupfs";
  }

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
