// The runc-compatible command line of crius-runtime: global flags, then a
// command with its own flags, parsed here (cli.cpp) and run by one
// cli_<command>.cpp each, which hand it to Container.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace crius::oci::runtime {

// Runs one command; returns the process exit status (the container's for
// `run`). Errors go to stderr and the --log.
int run_cli(int argc, char** argv);

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
