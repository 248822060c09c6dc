// The runc-compatible command line of crius-runtime: global flags, then a
// command with its own flags, all parsed here and handed to Container.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace crius::oci::runtime {

// Runs one command; returns the process exit status (the container's for
// `run`). Errors go to stderr and the --log.
int run_cli(int argc, char** argv);

// "KILL", "SIGKILL", "kill", "9", "SIGRTMIN+3" → signal number.
std::optional<int> parse_signal(const std::string&);

struct ParsedArgs {
  std::string command;
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;  // name without dashes → value ("" for switches)
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& dflt = {}) const;
};

// Parses `[global flags] command [flags and positional args]`. Throws
// InvalidArgument for an unknown flag or a missing value.
ParsedArgs parse_args(const std::vector<std::string>& args);

}  // namespace crius::oci::runtime
