// What a rootless crius needs from the host, made for one bench run and
// undone after it: an unprivileged user, and /dev/net/tun open to it. Both
// are noted in the run dir, so that the cleanup of a crashed run undoes them.
#pragma once

#include <sys/types.h>

#include <string>

#include "tests/bench/cri/harness.h"

namespace crius::bench {

// A user made with useradd -m, with subordinate ID ranges (Debian's useradd
// gives them; else usermod adds 400000-465535) and its XDG_RUNTIME_DIR,
// /run/user/<uid> (0700, its own). The destructor kills its processes and
// removes it with its home and runtime dir.
class BenchUser {
 public:
  explicit BenchUser(const RunDir& run);
  ~BenchUser();
  BenchUser(const BenchUser&) = delete;
  BenchUser& operator=(const BenchUser&) = delete;
  RunAs as() const { return {uid, gid, home, runtime_dir}; }

  std::string name, home, runtime_dir, subuid_range;  // subuid_range: "start:count"
  uid_t uid = 0;
  gid_t gid = 0;
};

// /dev/net/tun at 0666 (the mode Debian's udev rules give it; slirp4netns
// opens it as the user) while it lives, then its mode as it was.
class TunOpen {
 public:
  explicit TunOpen(const RunDir& run);
  ~TunOpen();
  TunOpen(const TunOpen&) = delete;
  TunOpen& operator=(const TunOpen&) = delete;

 private:
  std::string note_;
  mode_t mode_ = 0;
  bool changed_ = false;
};

// The cleanup pass's part: removes the users a run noted and gives
// /dev/net/tun back the mode it noted.
void cleanup_bench_users(const std::string& run_dir);

// "" when newuidmap, newgidmap and slirp4netns are all installed, else what is missing.
std::string rootless_tools_missing();

}  // namespace crius::bench
