// The command line: `crius [command] [flags]`. Config-key flags are only
// recorded here; load() applies them over the files.
#include <algorithm>
#include <filesystem>

#include "conf/keys.h"
#include "conf/load.h"
#include "conf/print.h"

namespace crius::conf {
namespace {

constexpr std::string_view kCommands[] = {"config"};

bool is_flag(std::string_view arg) { return arg.size() > 1 && arg[0] == '-'; }

// The built-in default of a key as --help shows it: a list as the comma
// list a flag takes, records in YAML flow style.
std::string default_text(const Key& key, const nlohmann::ordered_json& defaults) {
  if (!key.default_note.empty()) return std::string(key.default_note);
  const nlohmann::ordered_json* v = &defaults;
  std::string path(key.path);
  for (std::size_t start = 0, dot;; start = dot + 1) {
    dot = path.find('.', start);
    v = &v->at(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
  }
  if (v->is_string()) return v->get<std::string>();
  if (v->is_array() && !v->empty() && v->front().is_string()) {
    // Appended piece by piece: `"," + string` here trips GCC 12's -Wrestrict
    // false positive at -O3 (the Release build).
    std::string joined;
    for (const auto& s : *v) {
      if (!joined.empty()) joined += ',';
      joined += s.get_ref<const std::string&>();
    }
    return joined;
  }
  return flow_yaml(*v);
}

}  // namespace

Options parse_args(int argc, const char* const argv[]) {
  Options o;
  o.user = user_places_of_this_process();
  if (o.user) o.config_file = o.user->config_file;
  bool have_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!is_flag(arg)) {
      if (have_command) throw ConfigError(arg + ": unexpected argument (the command is " + o.command + ")");
      if (std::find(std::begin(kCommands), std::end(kCommands), arg) == std::end(kCommands))
        throw ConfigError(arg + ": unknown command");
      o.command = arg;
      have_command = true;
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "-h" || name == "--help" || name == "-v" || name == "--version") {
      if (has_value) throw ConfigError(name + ": takes no value");
      (name == "-h" || name == "--help" ? o.help : o.version) = true;
      continue;
    }
    if (name != "--config" && name != "--config-dir" && !find_flag(name)) throw ConfigError(name + ": unknown flag");
    if (!has_value) {
      // A value that starts with '-' must be written --flag=value.
      if (i + 1 >= argc || is_flag(argv[i + 1])) throw ConfigError(name + ": missing value");
      value = argv[++i];
    }
    if (name == "--config") {
      if (value.empty()) throw ConfigError("--config: missing value");
      o.config_file = value;
      o.config_file_explicit = true;
    } else if (name == "--config-dir") {
      if (value.empty()) throw ConfigError("--config-dir: missing value");
      o.config_dir = value;
    } else {
      o.overrides.emplace_back(name, value);
    }
  }
  if (o.config_dir.empty()) o.config_dir = (std::filesystem::path(o.config_file).parent_path() / "crius.d").string();
  return o;
}

std::string usage() {
  std::string u =
      "Usage: crius [command] [flags]\n"
      "\n"
      "crius is a Kubernetes CRI container runtime daemon.\n"
      "\n"
      "Commands:\n"
      "  (none)   run the daemon\n"
      "  config   print the effective configuration as YAML and exit\n"
      "  status   ask the running daemon: info, config, containers [ID], pods [ID], images\n"
      "           (--json, --socket PATH; see crius status --help)\n"
      "\n"
      "Flags:\n"
      "  -h, --help             print this help and exit\n"
      "  -v, --version          print the version and exit\n"
      "  --config FILE          main config file (default /etc/crius/crius.yaml; without this flag\n"
      "                         a missing file means built-in defaults)\n"
      "  --config-dir DIR       drop-in directory: its *.yaml files are applied in name order after\n"
      "                         the main file (default crius.d beside the config file)\n"
      "\n"
      "Config flags override the keys of the files. Each is written --flag VALUE or --flag=VALUE;\n"
      "a YAML value is parsed as YAML (e.g. --runtime-handlers='{kata: {type: oci, path: kata}}').\n"
      "\n";
  const nlohmann::ordered_json defaults = config_tree(Config{});
  for (const Key& key : config_keys()) {
    u += "  " + flag_for(key.path) + " " + std::string(key.meta);
    if (!key.alias.empty()) u += "  (or " + std::string(key.alias) + ")";
    u += "\n      " + std::string(key.path) + ": " + std::string(key.help) + "\n";
    u += "      default: " + default_text(key, defaults) + "\n";
  }
  return u;
}

}  // namespace crius::conf
