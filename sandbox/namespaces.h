// A pod's network, IPC and UTS namespaces, created without any process that
// lives on: a short-lived thread unshares them, sets the hostname, brings lo
// up and applies the sysctls inside, and bind-mounts each namespace onto a
// file under <state>/ns/<id>/ so that it outlives the thread. Containers
// join them by those paths.
//
// A pod with a user namespace of its own (userns_options POD) gets it first:
// a short-lived child process is cloned into a new user namespace together
// with the new network, IPC and UTS namespaces (the kernel makes the user
// namespace first, so it owns the others), the daemon writes its uid_map and
// gid_map, pins all four from /proc/<child>/ns/, and the child exits. The
// thread then enters the pinned ones (as the node's root, which has every
// capability over them) to set the hostname, lo and the sysctls.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sandbox/spec.h"

namespace crius::sandbox {

struct NamespaceRequest {
  bool net = false, ipc = false, uts = false;
  bool user = false;                           // a new user namespace with these maps (validated)
  std::vector<IdRange> uids, gids;
  std::string hostname;                        // set when uts
  std::map<std::string, std::string> sysctls;  // validated already
  std::string dir;                             // <state>/ns/<id>
};

// Owns pinned namespaces: unpins them (and removes the dir) when destroyed,
// unless keep() handed them to a sandbox record.
class PinnedNamespaces {
 public:
  // Throws crius::Error naming the step; nothing stays pinned then.
  static PinnedNamespaces create(const NamespaceRequest&);

  PinnedNamespaces() = default;
  PinnedNamespaces(PinnedNamespaces&&) noexcept;
  PinnedNamespaces& operator=(PinnedNamespaces&& o) noexcept;
  PinnedNamespaces(const PinnedNamespaces&) = delete;
  ~PinnedNamespaces();

  const std::map<std::string, std::string>& paths() const { return paths_; }
  void keep() { kept_ = true; }
  // Unpins now (errors logged), leaving nothing for the destructor.
  void unpin_now();

 private:
  std::map<std::string, std::string> paths_;  // "net" → <dir>/net; "user" when it has one
  std::string dir_;
  bool kept_ = false;
};

// Pins the namespace file `source` ("/proc/<pid>/ns/pid") by bind-mounting it
// onto a new file at `path`; `kind` names it in errors. Nothing is left
// behind when it fails.
void pin_namespace(const std::string& source, const std::string& path, const std::string& kind);
// Unmounts and removes a pin; a missing one is fine. Throws on other errors.
void unpin_namespace(const std::string& path);
// Unpins everything in `paths` and removes `dir` when empty.
void unpin_all(const std::map<std::string, std::string>& paths, const std::string& dir);

}  // namespace crius::sandbox
