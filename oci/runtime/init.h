// The container's init between clone and exec: everything is prepared by the
// runtime (spec parsed, namespaces opened, seccomp compiled) and this code
// only applies it, talking to the runtime over the sync socket.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "oci/runtime/caps.h"
#include "oci/runtime/namespaces.h"
#include "oci/runtime/seccomp.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

struct ResolvedRlimit {
  int resource;
  std::string name;
  uint64_t soft, hard;
};

struct InitConfig {
  const Spec* spec = nullptr;
  std::string bundle;
  std::string rootfs;
  NamespacePlan* ns = nullptr;
  int sync_fd = -1;
  int fifo_fd = -1;      // O_PATH of <state>/exec.fifo
  int console_fd = -1;   // connected --console-socket, or -1
  int preserve_fds = 0;
  int stdio[3] = {-1, -1, -1};  // dup'ed onto 0, 1, 2 first; -1 keeps the runtime's
  bool wait_for_go = false;  // the runtime sends kGo once it knows our pid and wrote the id maps
  bool hook_round = true;    // stop before pivot_root for the prestart/createRuntime/createContainer hooks
  bool has_caps = false;
  // The runtime itself runs in a user namespace (base/user_namespace.h):
  // device nodes are bound from the host, never made.
  bool in_user_namespace = false;
  CapSets caps;
  int last_cap = 40;
  SeccompFilter* seccomp = nullptr;
  std::vector<ResolvedRlimit> rlimits;
  std::string session_keyring;  // joined (created) unless empty
  // Per spec.mounts entry: a detached, idmapped mount tree (open_tree) made
  // by the runtime, moved into place instead of a bind; -1 for none.
  const std::vector<int>* mount_fds = nullptr;
};

// Steps of the init's setup that `exec` (exec.cpp) applies too. Each throws
// crius::Error naming the step; `warn` gets what the kernel made us clamp.
using WarnFn = std::function<void(const std::string&)>;
// proc: an fd of /proc (O_PATH) as the process sees it.
void set_oom_score_adj(int proc, int value, const WarnFn& warn);
void set_rlimits(const std::vector<ResolvedRlimit>&, const WarnFn& warn);
// The AppArmor profile the next execve switches to.
void set_apparmor_exec(const std::string& profile);
// setgroups, setresgid, setresuid (in that order).
void switch_user(const User&);

// The last step of an init or an exec'd process: only fds below
// first_closed survive, signal dispositions and mask are reset, `seccomp`
// (when given: the filter that waits for no_new_privs) is loaded, and exe
// is exec'd. Throws naming the step when something fails.
[[noreturn]] void exec_user_process(const std::string& exe, const std::vector<std::string>& args,
                                    const std::vector<std::string>& env, unsigned first_closed,
                                    SeccompFilter* seccomp);

// Never returns: execs the user's process or _exits non-zero after sending
// (or, once the runtime is gone, logging) the error.
[[noreturn]] void init_main(InitConfig&);

}  // namespace crius::oci::runtime
