// Fuzzes the daemon's configuration as an operator writes it: the main YAML
// file, one drop-in, and command-line flags (conf::parse_args, then
// conf::load over real files). The input is up to three parts separated by
// NUL bytes: the main file, the drop-in (crius.d/50-fuzz.yaml), and the
// flags one per line.
// Invariants: a config that loads prints (to_yaml) to a file that loads
// back to an equal Config; its JSON form (to_json) dumps; anything refused
// is refused with ConfigError (parse_args and load throw nothing else).
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "conf/config.h"
#include "conf/load.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace conf = crius::conf;

struct Dir {
  std::string path = [] {
    char tmpl[] = "/tmp/crius-conf-fuzz-XXXXXX";
    CRIUS_FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    crius::mkdir_all(std::string(tmpl) + "/crius.d");
    return std::string(tmpl);
  }();
  ~Dir() { crius::remove_all(path); }
};

bool no_systemd() { return false; }

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (;;) {
    const auto at = s.find(sep);
    out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Dir dir;
  const std::vector<std::string> parts = split(crius::fuzz::text(data, size), '\0');
  const std::string main_file = dir.path + "/crius.yaml", drop_in = dir.path + "/crius.d/50-fuzz.yaml";
  crius::write_file(main_file, parts[0], O_CREAT | O_TRUNC);
  if (parts.size() > 1) crius::write_file(drop_in, parts[1], O_CREAT | O_TRUNC);
  else ::unlink(drop_in.c_str());

  std::vector<std::string> args = {"crius"};
  if (parts.size() > 2)
    for (auto& a : split(parts[2], '\n'))
      if (!a.empty()) args.push_back(a);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());

  conf::Config config;
  try {
    conf::Options opts = conf::parse_args(static_cast<int>(argv.size()), argv.data());
    // Only the files written here are read, whatever --config says.
    opts.config_file = main_file;
    opts.config_file_explicit = true;
    opts.config_dir = dir.path + "/crius.d";
    config = conf::load(opts, &no_systemd);
  } catch (const conf::ConfigError&) {
    return 0;
  }

  (void)conf::to_json(config).dump();
  const std::string printed = conf::to_yaml(config);
  crius::write_file(main_file, printed, O_CREAT | O_TRUNC);
  ::unlink(drop_in.c_str());
  conf::Options again;
  again.config_file = main_file;
  again.config_file_explicit = true;
  again.config_dir = dir.path + "/crius.d";
  try {
    const conf::Config reloaded = conf::load(again, &no_systemd);
    if (!(reloaded == config))
      std::fprintf(stderr, "printed:\n%s\nreloaded:\n%s\n", printed.c_str(), conf::to_yaml(reloaded).c_str());
    CRIUS_FUZZ_CHECK(reloaded == config);
  } catch (const conf::ConfigError& e) {
    std::fprintf(stderr, "printed config does not load: %s\n%s\n", e.what(), printed.c_str());
    CRIUS_FUZZ_CHECK(false);
  }
  return 0;
}
