// `crius status`: asks the running daemon over its CRI socket and prints
// what it answers, for a person (or as JSON with --json).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace crius::client {

// argv as main() got it, argv[1] being "status". Returns the exit code: 0;
// 1 when the daemon cannot be reached, an ID is unknown or a call fails;
// 2 for a bad command line.
int status_main(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

// Whether the command of this command line is `status`, wherever it stands
// among the config flags (`crius --state /run/x status pods`); when it is,
// argv is reordered so that "status" comes first, as status_main wants.
bool take_status_command(std::vector<const char*>& argv);

// The --help text of `crius status`.
std::string status_usage();

}  // namespace crius::client
