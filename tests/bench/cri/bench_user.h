// What a rootless crius needs from the host, made for one bench run and
// undone after it (tests/fixtures/rootless): an unprivileged user, and
// /dev/net/tun open to it. Both are noted in the run dir, so that the cleanup
// of a crashed run undoes them.
#pragma once

#include <string>

#include "tests/bench/cri/harness.h"
#include "tests/fixtures/rootless/host_user.h"

namespace crius::bench {

// A user named after the run, noted in the run dir before it exists.
class BenchUser : public fixtures::HostUser {
 public:
  explicit BenchUser(const RunDir& run);
  RunAs as() const { return {uid, gid, home, runtime_dir}; }
};

// /dev/net/tun at 0666 for the run, its old mode noted in the run dir.
class TunOpen : public fixtures::TunOpen {
 public:
  explicit TunOpen(const RunDir& run);
};

// The cleanup pass's part: removes the users a run noted and gives
// /dev/net/tun back the mode it noted.
void cleanup_bench_users(const std::string& run_dir);

}  // namespace crius::bench
