// Finding the project's other binaries beside the one running: the daemon
// starts crius-monitor and crius-pause from its own directory.
#pragma once

#include <string>

namespace crius {

// The directory of /proc/self/exe.
std::string self_dir();
// <self_dir()>/<name> when it is an executable file there, else "".
std::string sibling_executable(const std::string& name);

}  // namespace crius
