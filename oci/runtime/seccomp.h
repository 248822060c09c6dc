// linux.seccomp translated to a libseccomp filter. The filter is built in the
// runtime before the container's init starts (so that a bad profile fails
// `create` with a clear error) and loaded by init just before exec.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/runtime/spec.h"

namespace crius::oci::runtime {

// "SCMP_ACT_ERRNO" + errnoRet → libseccomp action value. Throws
// InvalidArgument for an unknown action.
uint32_t seccomp_action(const std::string& name, std::optional<uint32_t> errno_ret);
// "SCMP_CMP_EQ" → enum scmp_compare value. Throws InvalidArgument.
int seccomp_operator(const std::string& name);
// "SCMP_ARCH_X86_64" → libseccomp arch token. Throws InvalidArgument.
uint32_t seccomp_arch(const std::string& name);
const std::vector<std::string>& seccomp_action_names();
const std::vector<std::string>& seccomp_operator_names();
const std::vector<std::string>& seccomp_arch_names();

class SeccompFilter {
 public:
  // Throws InvalidArgument naming the field on a bad profile. Syscall names
  // unknown to libseccomp are skipped and reported in `skipped`.
  static std::unique_ptr<SeccompFilter> build(const Seccomp&, std::vector<std::string>& skipped);
  ~SeccompFilter();
  SeccompFilter(const SeccompFilter&) = delete;
  SeccompFilter& operator=(const SeccompFilter&) = delete;

  // Loads the filter into the calling thread. Returns 0 or an errno.
  int load();
  // The BPF program size in instructions, for tests.
  size_t rule_count() const { return rules_; }
  // Some rule is SCMP_ACT_NOTIFY: the filter is loaded with a listener fd
  // that goes to linux.seccomp.listenerPath (seccomp_notify.h).
  bool notify() const { return notify_; }
  // After load(): the listener fd (owned by the filter), -1 when none.
  int notify_fd() const;

 private:
  SeccompFilter() = default;
  void* ctx_ = nullptr;
  size_t rules_ = 0;
  bool notify_ = false;
};

}  // namespace crius::oci::runtime
