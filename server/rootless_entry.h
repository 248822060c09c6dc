// A crius started by a user other than root makes itself root of a user
// namespace of its own before it does anything else, as rootlesskit and
// podman do, but without a process of their own in between: the user's ID
// maps to 0 and its subordinate ranges (/etc/subuid, /etc/subgid) to 1 and
// up, through Debian's newuidmap/newgidmap (uidmap); then it takes a mount
// namespace of its own, where its overlays, binds and pins live. It stays in
// the host's network namespace, so pulls, the streaming server and metrics
// reach and are reached as the user's own programs are; pods get networks
// of their own behind slirp4netns (sandbox/pod_network_ns.h).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace crius::server {

struct SubordinateRange {
  unsigned long start = 0, count = 0;
  bool operator==(const SubordinateRange&) const = default;
};

// The ranges /etc/subuid (or /etc/subgid) text gives `name` or `id`, in
// file order; "name:start:count" lines, "#" comments.
std::vector<SubordinateRange> subordinate_ranges(const std::string& text, const std::string& name, unsigned long id);

// Enters the namespaces (see above) and becomes root in them. Must be called
// while the process has one thread. Without subordinate ranges only the
// user's own ID is mapped, with a warning: images whose files other users
// own still run, their owners kept as root (image/pull/layer_unpack.h). Throws
// naming the step that failed.
//
// The namespaces outlive the daemon, as the pods in them do: a holder
// process (`holder_binary`, crius-pause) stays in them, its pid in
// <state_dir>/rootless/holder.pid, and the next daemon joins the namespaces
// of a live holder instead of making new ones, so that it sees its pods'
// mounts and pins again.
void enter_rootless_namespaces(const std::string& state_dir, const std::string& holder_binary);

// At shutdown with no pod sandbox left: ends the holder, so that nothing of
// the namespaces stays once the daemon is gone.
void release_rootless_namespaces(const std::string& state_dir);

}  // namespace crius::server
