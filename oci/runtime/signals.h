// Signal names and numbers as users and configs spell them, the one parser
// of the project (crius-runtime kill, the CRI's stop signals): "KILL",
// "SIGKILL", "kill", "9", "SIGRTMIN+3", "RTMAX-1".
// No <csignal> here: the CRI proto's Signal enum collides with its macros.
#pragma once

#include <string_view>

namespace crius::oci::runtime {

// The signal number. InvalidArgument naming the value when it is no signal
// ("unknown signal \"NOPE\"", "signal 999 is out of range").
int parse_signal(std::string_view name_or_number);

}  // namespace crius::oci::runtime
