#include "oci/runtime/seccomp.h"

#include <seccomp.h>

#include <cerrno>
#include <map>
#include <set>

#include "base/error.h"

namespace crius::oci::runtime {
namespace {

const std::map<std::string, int>& operators() {
  static const std::map<std::string, int> m = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  return m;
}

const std::map<std::string, uint32_t>& arches() {
  static const std::map<std::string, uint32_t> m = {
      {"SCMP_ARCH_X86", SCMP_ARCH_X86},
      {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
      {"SCMP_ARCH_X32", SCMP_ARCH_X32},
      {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
      {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
      {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
      {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
      {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
      {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
      {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
      {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
      {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
      {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
      {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
      {"SCMP_ARCH_S390", SCMP_ARCH_S390},
      {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
      {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
      {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
      {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
  };
  return m;
}

template <typename M>
std::vector<std::string> keys(const M& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

}  // namespace

uint32_t seccomp_action(const std::string& name, std::optional<uint32_t> errno_ret) {
  const uint32_t ret = errno_ret.value_or(EPERM);
  // libseccomp refuses an errno past the kernel's MAX_ERRNO (4095) and a
  // trace value past 16 bits; say so as the input's fault, naming the value.
  if (name == "SCMP_ACT_ERRNO" && ret > 4095)
    throw InvalidArgument("seccomp errnoRet " + std::to_string(ret) + " of SCMP_ACT_ERRNO is out of range (at most 4095)");
  if (name == "SCMP_ACT_TRACE" && ret > 0xffff)
    throw InvalidArgument("seccomp errnoRet " + std::to_string(ret) + " of SCMP_ACT_TRACE is out of range (at most 65535)");
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  throw InvalidArgument("unknown seccomp action \"" + name + "\"");
}

int seccomp_operator(const std::string& name) {
  auto it = operators().find(name);
  if (it == operators().end()) throw InvalidArgument("unknown seccomp operator \"" + name + "\"");
  return it->second;
}

uint32_t seccomp_arch(const std::string& name) {
  auto it = arches().find(name);
  if (it == arches().end()) throw InvalidArgument("unknown seccomp architecture \"" + name + "\"");
  return it->second;
}

const std::vector<std::string>& seccomp_action_names() {
  static const std::vector<std::string> v = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                             "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                             "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
  return v;
}
const std::vector<std::string>& seccomp_operator_names() {
  static const std::vector<std::string> v = keys(operators());
  return v;
}
const std::vector<std::string>& seccomp_arch_names() {
  static const std::vector<std::string> v = keys(arches());
  return v;
}

std::unique_ptr<SeccompFilter> SeccompFilter::build(const Seccomp& s, std::vector<std::string>& skipped) {
  const uint32_t def = seccomp_action(s.default_action, s.default_errno_ret);
  // Every system call of the runtime's own setup would wait for a listener
  // that is not connected yet.
  if (def == SCMP_ACT_NOTIFY) throw InvalidArgument("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  std::unique_ptr<SeccompFilter> f(new SeccompFilter);
  f->ctx_ = seccomp_init(def);
  if (!f->ctx_) throw Internal("seccomp_init(" + s.default_action + ") failed");
  auto ctx = static_cast<scmp_filter_ctx>(f->ctx_);
  // NoNewPrivileges is the spec's to decide, not libseccomp's.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  for (const auto& a : s.architectures) {
    int rc = seccomp_arch_add(ctx, seccomp_arch(a));
    if (rc != 0 && rc != -EEXIST) throw InvalidArgument(errno_text("seccomp: adding architecture " + a, -rc));
  }
  for (const auto& flag : s.flags) {
    int rc = 0;
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC") rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    else if (flag == "SECCOMP_FILTER_FLAG_LOG") rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    else throw InvalidArgument("unknown seccomp flag \"" + flag + "\"");
    if (rc != 0) throw InvalidArgument(errno_text("seccomp: setting flag " + flag, -rc));
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const auto& sc = s.syscalls[i];
    const uint32_t act = seccomp_action(sc.action, sc.errno_ret);
    if (act == def) continue;  // libseccomp refuses a rule that repeats the default
    if (act == SCMP_ACT_NOTIFY) {
      if (s.listener_path.empty())
        throw InvalidArgument("linux.seccomp.syscalls[" + std::to_string(i) +
                              "]: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
      f->notify_ = true;
    }
    std::vector<scmp_arg_cmp> conds;
    std::set<unsigned> indexes;
    for (const auto& a : sc.args) {
      conds.push_back(SCMP_CMP(a.index, static_cast<scmp_compare>(seccomp_operator(a.op)), a.value, a.value_two));
      indexes.insert(a.index);
    }
    // libseccomp allows one comparison per argument in a rule; several on the
    // same argument become one rule each (an OR), as runc does.
    const bool split = indexes.size() != conds.size();
    for (const auto& name : sc.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        skipped.push_back(name);
        continue;
      }
      auto add = [&](const scmp_arg_cmp* c, unsigned n) {
        int rc = seccomp_rule_add_array(ctx, act, nr, n, c);
        if (rc != 0)
          throw InvalidArgument(errno_text("seccomp: adding rule for syscall " + name + " (linux.seccomp.syscalls[" +
                                               std::to_string(i) + "])",
                                           -rc));
        ++f->rules_;
      };
      if (!split) {
        add(conds.data(), static_cast<unsigned>(conds.size()));
      } else {
        for (const auto& c : conds) add(&c, 1);
      }
    }
  }
  return f;
}

SeccompFilter::~SeccompFilter() {
  if (ctx_) seccomp_release(static_cast<scmp_filter_ctx>(ctx_));
}

int SeccompFilter::load() {
  int rc = seccomp_load(static_cast<scmp_filter_ctx>(ctx_));
  return rc < 0 ? -rc : 0;
}

int SeccompFilter::notify_fd() const {
  // libseccomp loads a filter with a notify rule with
  // SECCOMP_FILTER_FLAG_NEW_LISTENER and keeps the listener's fd.
  int fd = seccomp_notify_fd(static_cast<scmp_filter_ctx>(ctx_));
  return fd >= 0 ? fd : -1;
}

}  // namespace crius::oci::runtime
