// `crius status`: asks the running daemon over its CRI socket and prints
// what it answers, for a person (or as JSON with --json).
#pragma once

#include <ostream>
#include <string>

namespace crius::client {

// argv as main() got it, argv[1] being "status". Returns the exit code: 0;
// 1 when the daemon cannot be reached, an ID is unknown or a call fails;
// 2 for a bad command line.
int status_main(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

// The --help text of `crius status`.
std::string status_usage();

}  // namespace crius::client
