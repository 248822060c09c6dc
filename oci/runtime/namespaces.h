// linux.namespaces: which to create with the container's init, which to join
// by path (the file's type checked with the NS_GET_NSTYPE ioctl), and the
// uid/gid maps of a new user namespace, written by the runtime.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// "network" → CLONE_NEWNET…; throws InvalidArgument for an unknown type.
int namespace_flag(const std::string& type);
// "network" → "net" (the name under /proc/<pid>/ns/).
const char* namespace_proc_name(const std::string& type);

struct Join {
  int flag;  // CLONE_NEW*
  Fd fd;
  std::string path;
};

struct NamespacePlan {
  unsigned long clone_flags = 0;  // new namespaces made by clone (not time)
  bool new_time = false;
  std::vector<Join> joins;        // in setns order: user first, mnt last
  bool has(int flag) const;       // new or joined
  bool is_new(int flag) const;
  bool joins_user_or_pid() const;
};

// Opens and type-checks every joined namespace. Throws naming the path.
NamespacePlan plan_namespaces(const Linux*);
// Opens path and checks that it is a namespace of type `flag`.
Fd open_namespace(const std::string& path, int flag);

// "0 1000 1\n…" as /proc/<pid>/uid_map takes it.
std::string format_id_map(const std::vector<IdMapping>&);
void write_id_maps(pid_t pid, const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids);

}  // namespace crius::oci::runtime
