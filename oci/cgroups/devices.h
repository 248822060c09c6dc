// cgroup v2 device control: a BPF_PROG_TYPE_CGROUP_DEVICE program built
// from the rules (last matching rule wins, nothing allowed by default), loaded
// and attached with the raw bpf(2) syscall.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/cgroups/resources.h"

namespace crius::oci::cgroups {

// The program's instructions (struct bpf_insn, 8 bytes each), rules first to
// last with the default set appended unless the last rule allows all.
std::vector<uint64_t> device_filter_program(const std::vector<DeviceRule>& rules);
// Loads the program and attaches it to the cgroup directory (BPF_F_ALLOW_MULTI),
// replacing the programs attached to that directory before.
void attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules);

}  // namespace crius::oci::cgroups
