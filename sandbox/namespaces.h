// A pod's network, IPC and UTS namespaces, created without any process that
// lives on: a short-lived thread unshares them, sets the hostname, brings lo
// up and applies the sysctls inside, and bind-mounts each namespace onto a
// file under <state>/ns/<id>/ so that it outlives the thread. Containers
// join them by those paths.
#pragma once

#include <map>
#include <string>

namespace crius::sandbox {

struct NamespaceRequest {
  bool net = false, ipc = false, uts = false;
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
  std::map<std::string, std::string> paths_;  // "net" → <dir>/net
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
