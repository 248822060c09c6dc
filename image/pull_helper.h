// The daemon's PullRunner: each pull is a crius-pull process
// (pull_protocol.h says why and what they say to each other), whose log
// lines go where the daemon's go.
#pragma once

#include <string>

#include "image/pull_protocol.h"

namespace crius::image {

// crius-pull beside the crius binary, or "" when it is not there.
std::string default_pull_binary();

// Runs `binary` for each pull. A helper that ends without a result or an
// error line (killed, crashed) is Internal naming how it ended; an empty
// `binary` is FailedPrecondition saying where it was looked for.
PullRunner helper_pull_runner(std::string binary);

}  // namespace crius::image
