// Parsing and dispatch: the global flags, each command's flags and handler
// in one table, and run_cli, which sets up the runc-format log.
#include "oci/runtime/cli.h"

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "base/error.h"
#include "base/log.h"
#include "base/version.h"
#include "oci/runtime/cli_internal.h"
#include "oci/runtime/state.h"

namespace crius::oci::runtime {
namespace {

using namespace cli;

struct FlagSpec {
  std::set<std::string> values;    // flags that take a value
  std::set<std::string> switches;  // boolean flags
  std::map<std::string, std::string> aliases;
};

struct CommandSpec {
  FlagSpec flags;
  Command run;
};

const FlagSpec& global_flags() {
  static const FlagSpec f{{"root", "log", "log-format", "rootless", "criu"},
                          {"debug", "systemd-cgroup", "help", "version"},
                          {{"h", "help"}, {"v", "version"}}};
  return f;
}

const CommandSpec* find_command(const std::string& cmd) {
  static const std::map<std::string, CommandSpec> m = {
      {"create",
       {{{"bundle", "console-socket", "pid-file", "preserve-fds"}, {"no-pivot", "no-new-keyring"}, {{"b", "bundle"}}},
        cmd_create}},
      {"run",
       {{{"bundle", "console-socket", "pid-file", "preserve-fds"},
         {"no-pivot", "no-new-keyring", "detach", "keep", "no-subreaper"},
         {{"b", "bundle"}, {"d", "detach"}}},
        cmd_run}},
      {"start", {{}, cmd_start}},
      {"state", {{}, cmd_state}},
      {"kill", {{{}, {"all"}, {{"a", "all"}}}, cmd_kill}},
      {"delete", {{{}, {"force"}, {{"f", "force"}}}, cmd_delete}},
      {"list", {{{"format"}, {"quiet"}, {{"f", "format"}, {"q", "quiet"}}}, cmd_list}},
      {"spec", {{{"bundle"}, {"rootless"}, {{"b", "bundle"}}}, cmd_spec}},
      {"pause", {{}, cmd_pause}},
      {"resume", {{}, cmd_resume}},
      {"update",
       {{{"resources", "blkio-weight", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "cpu-share",
          "cpu-shares", "cpuset-cpus", "cpuset-mems", "kernel-memory", "kernel-memory-tcp", "memory",
          "memory-reservation", "memory-swap", "pids-limit"},
         {},
         {{"r", "resources"}}},
        cmd_update}},
      {"ps", {{{"format"}, {}, {{"f", "format"}}}, cmd_ps}},
      {"events", {{{"interval"}, {"stats"}, {}}, cmd_events}},
      {"features", {{}, cmd_features}},
      {"exec",
       {{{"console-socket", "pid-file", "process", "env", "cwd", "user", "additional-gids", "cap", "apparmor",
          "preserve-fds", "process-label", "cgroup"},
         {"tty", "detach", "no-new-privs", "ignore-paused", "no-subreaper"},
         {{"t", "tty"}, {"d", "detach"}, {"e", "env"}, {"u", "user"}, {"g", "additional-gids"}, {"c", "cap"},
          {"p", "process"}}},
        cmd_exec}},
  };
  auto it = m.find(cmd);
  return it == m.end() ? nullptr : &it->second;
}

const std::set<std::string>& unsupported_commands() {
  static const std::set<std::string> s = {"checkpoint", "restore"};
  return s;
}

void usage() {
  std::cout << "usage: crius-runtime [global flags] <command> [flags] <container-id>\n"
               "\n"
               "commands: create, start, state, kill, delete, run, exec, list, spec, features\n"
               "          pause, resume, update, ps, events [--stats] [--interval D]\n"
               "\n"
               "global flags:\n"
               "  --root DIR            state directory (default /run/crius-runtime)\n"
               "  --log FILE            log file (default stderr)\n"
               "  --log-format FORMAT   text or json\n"
               "  --debug               log debug messages\n"
               "  --systemd-cgroup      linux.cgroupsPath is slice:prefix:name (systemd driver form)\n";
}

}  // namespace

namespace cli {

std::string need_id(const ParsedArgs& a) {
  if (a.positional.empty()) throw InvalidArgument(a.command + ": a container ID is required");
  if (a.positional.size() > 1 && a.command != "kill")
    throw InvalidArgument(a.command + ": unexpected argument \"" + a.positional[1] + "\"");
  return a.positional[0];
}

int parse_int(const std::string& v, const std::string& flag) {
  try {
    size_t pos;
    int n = std::stoi(v, &pos);
    if (pos != v.size() || n < 0) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw InvalidArgument("--" + flag + ": \"" + v + "\" is not a non-negative integer");
  }
}

}  // namespace cli

bool ParsedArgs::has(const std::string& name) const {
  for (const auto& [k, v] : flags)
    if (k == name) return true;
  return false;
}

std::string ParsedArgs::get(const std::string& name, const std::string& dflt) const {
  std::string out = dflt;
  for (const auto& [k, v] : flags)
    if (k == name) out = v;  // the last one wins
  return out;
}

ParsedArgs parse_args(const std::vector<std::string>& args) {
  ParsedArgs out;
  const FlagSpec* spec = &global_flags();
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      if (out.command.empty()) {
        out.command = arg;
        const CommandSpec* cmd = find_command(arg);
        if (!cmd) {
          if (!unsupported_commands().count(arg)) throw InvalidArgument("unknown command \"" + arg + "\"");
          flags_done = true;  // its arguments do not matter
        } else {
          spec = &cmd->flags;
        }
      } else {
        out.positional.push_back(arg);
        // exec <id> cmd args…: what follows the ID is the command's (as Go's
        // flag parsing stops at the first argument).
        if (out.command == "exec" || out.command == "ps") flags_done = true;
      }
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (auto al = spec->aliases.find(name); al != spec->aliases.end()) name = al->second;
    const std::string where = out.command.empty() ? "" : out.command + ": ";
    if (spec->values.count(name)) {
      if (!value) {
        if (i + 1 >= args.size()) throw InvalidArgument(where + "flag --" + name + " needs a value");
        value = args[++i];
      }
      out.flags.emplace_back(name, *value);
    } else if (spec->switches.count(name)) {
      if (value && *value != "true" && *value != "false")
        throw InvalidArgument(where + "flag --" + name + " takes no value");
      if (!value || *value == "true") out.flags.emplace_back(name, "");
    } else {
      throw InvalidArgument(where + "unknown flag " + arg);
    }
  }
  return out;
}

int run_cli(int argc, char** argv) {
  // runc's line format from the first error on, --log or not.
  log::set_output(-1, log::Format::runc_text);
  std::vector<std::string> args(argv + 1, argv + argc);
  ParsedArgs a;
  try {
    a = parse_args(args);
    if (a.has("help") || (a.command.empty() && !a.has("version"))) {
      usage();
      return a.has("help") ? 0 : 1;
    }
    if (a.has("version")) {
      std::cout << "crius-runtime version " << kVersion << "\nspec: " << kOciVersion << "\n";
      return 0;
    }
    const std::string format = a.get("log-format", "text");
    if (format != "text" && format != "json") throw InvalidArgument("--log-format must be text or json");
    log::open_output(a.get("log"), format == "json" ? log::Format::runc_json : log::Format::runc_text);
    log::set_level(a.has("debug") ? log::Level::debug : log::Level::info);
    if (unsupported_commands().count(a.command))
      throw Unimplemented(a.command + " is not supported yet by crius-runtime");
    return find_command(a.command)->run(a.get("root", "/run/crius-runtime"), a);
  } catch (const std::exception& e) {
    log::error(e.what());
    if (!log::to_stderr()) std::cerr << e.what() << "\n";
    return 1;
  }
}

}  // namespace crius::oci::runtime
