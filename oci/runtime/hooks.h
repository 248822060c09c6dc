// Running the spec's hooks: the state JSON on stdin, the hook's args and
// env, its timeout. A hook that fails (non-zero exit, signal, timeout) fails
// the step with an error naming the hook, the phase and its output.
#pragma once

#include <string>
#include <vector>

#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

void run_hook(const Hook&, const std::string& phase, const std::string& state_json);
void run_hooks(const std::vector<Hook>&, const std::string& phase, const std::string& state_json);

}  // namespace crius::oci::runtime
