// Mount options of the spec translated to mount(2)/mount_setattr(2) flags,
// and mounting inside a root filesystem without ever following a symlink out
// of it: destinations are resolved with openat2(RESOLVE_IN_ROOT) and the
// mount lands on /proc/self/fd/N of the resolved directory or file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

struct MountOptions {
  unsigned long flags = 0;               // MS_* to set (MS_BIND, MS_REC, MS_RDONLY…)
  std::vector<unsigned long> propagation;  // MS_PRIVATE|MS_REC…, applied after the mount
  uint64_t attr_set = 0;                 // MOUNT_ATTR_* applied recursively (rro…)
  uint64_t attr_clr = 0;
  std::string data;                      // options the kernel's filesystem parses (mode=755…)
  bool bind() const;
};

// Throws InvalidArgument for options this runtime cannot honour (idmap).
MountOptions parse_mount_options(const std::vector<std::string>& options);
// Every option name parse_mount_options recognises, for `features`.
std::vector<std::string> known_mount_options();
// "rslave" → MS_SLAVE|MS_REC. Throws InvalidArgument.
unsigned long propagation_flag(const std::string& name);

// openat2(root, path, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS). Returns -1 with errno.
int open_in_root(int root, const std::string& path, int flags, mode_t mode = 0);
// mkdir -p of path inside root; returns an O_PATH fd of the directory.
Fd mkdir_in_root(int root, const std::string& path, mode_t mode = 0755);
// The parent directories and an empty file at path inside root (kept if it
// exists); returns an O_PATH fd of it.
Fd mkfile_in_root(int root, const std::string& path);
// "/proc/self/fd/N"
std::string fd_path(int fd);

// The namespaces a container shares with the runtime itself (the spec has
// no entry of that type). In a user namespace that does not own them, a
// fresh proc or mqueue of those cannot be mounted; the runtime's own, bound,
// shows the same namespace (what rootless Docker does for --pid=host and
// --ipc=host).
struct SharedNamespaces {
  bool pid = false, ipc = false;
};
SharedNamespaces shared_namespaces(const Spec& spec);

// Performs one spec mount inside the root (opened as `root`, at host path
// rootfs). Relative bind sources are relative to the bundle. `tree`, when
// not -1, is a detached mount (an idmapped bind the runtime prepared) moved
// onto the destination instead of binding the source. A tmpfs with
// "tmpcopyup" starts with a copy of what the rootfs had there. A sysfs, or
// a proc or mqueue of a namespace in `shared`, that the kernel refuses
// (EPERM) becomes a bind of the runtime's own; an mqueue with none to bind
// (the runtime has no /dev/mqueue) is left out. Throws naming the
// destination, the step and errno's text.
void mount_in_root(int root, const Mount& m, const std::string& bundle, int tree = -1,
                   SharedNamespaces shared = {});
// Applies propagation/readonly remounts of MountOptions to an existing mount.
void finish_mount(int root, const std::string& dest, const MountOptions& o, bool bind);

}  // namespace crius::oci::runtime
