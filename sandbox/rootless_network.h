// Rootless pods' way out. A crius in a user namespace that does not own its
// network namespace (rootless, or root in a container that shares the host's
// network) may not make bridges or veths there. Its pods' networks live in a
// network namespace of their own instead, pinned at <state>/rootless/netns:
// the CNI plugins run in it (cni::Cni::run_plugins_in), and slirp4netns
// (user-mode TCP/IP on a tap device, Debian's slirp4netns) connects it to the
// host's network. A pod's hostPort is forwarded from the host to the same port
// of that namespace through slirp4netns's API (add_hostfwd), where the
// portmap plugin's rules take it on to the pod.
//
// slirp4netns outlives a daemon restart, like the pods' monitors: the next
// daemon finds it by its pid file, joins its namespaces (server/rootless_entry.h)
// and uses it again. It is stopped, and the namespace unpinned, when the
// daemon stops with no pod sandbox left.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cni/network.h"

namespace crius::sandbox {

class RootlessNetwork {
 public:
  // Whether this daemon needs one: in a user namespace that does not own
  // the network namespace it runs in.
  static bool needed();
  // Where a rootless crius keeps what outlives it (server/rootless_entry.h
  // keeps its namespace holder's pid there too).
  static std::string dir_of(const std::string& state_dir) { return state_dir + "/rootless"; }

  // Finds the namespace and slirp4netns a previous daemon left, or makes
  // them. When slirp4netns cannot start (not installed, /dev/net/tun closed
  // to the user) the namespace still is, and problem() says why it has no
  // way out; other failures throw.
  explicit RootlessNetwork(const std::string& state_dir);
  RootlessNetwork(const RootlessNetwork&) = delete;
  RootlessNetwork& operator=(const RootlessNetwork&) = delete;

  const std::string& netns_path() const { return netns_; }
  // What stops pods from reaching out ("" when nothing): slirp4netns gone.
  std::string problem() const;

  // Forwards host_ip:host_port (host_ip "" is every address) on the host to
  // the same port of the pods' namespace. Throws FailedPrecondition with
  // slirp4netns's reason (a port in use, a port below
  // net.ipv4.ip_unprivileged_port_start).
  void forward(const cni::PortMapping&);
  // Removes the forwards of these mappings that exist; never throws.
  void unforward(const std::vector<cni::PortMapping>&);
  // At start: removes every forward but the live pods' (a crash between a
  // forward and the pod's record left one).
  void keep_only(const std::vector<cni::PortMapping>& live);

  // Stops slirp4netns and unpins the namespace (the daemon stops with no pod
  // sandbox left).
  void stop();

 private:
  nlohmann::json call(const nlohmann::json& request) const;
  // Removes the forwards that match `mappings` (or, !matching, that match none).
  void remove_forwards(const std::vector<cni::PortMapping>& mappings, bool matching);

  std::string dir_, netns_, api_socket_, pid_file_;
  std::string failure_;  // why slirp4netns did not start
  pid_t pid_ = -1;
};

}  // namespace crius::sandbox
