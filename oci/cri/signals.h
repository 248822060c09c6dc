// The CRI's Signal enum and signal numbers, both ways: what a stop signal
// kubelet names is, and how ContainerStatus.stop_signal names the one used.
// No <csignal> here: the Signal enum's values collide with its macros.
#pragma once

#include "api/cri.pb.h"

namespace crius::oci::cri {

// The CRI value that names signal number `sig` (SIGRTMIN+3 as
// SIGRTMINPLUS3, an alias as its canonical name: SIGIOT as SIGABRT);
// RUNTIME_DEFAULT for a number that is no signal.
::runtime::v1::Signal cri_signal(int sig);

}  // namespace crius::oci::cri
