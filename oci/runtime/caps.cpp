#include "oci/runtime/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace crius::oci::runtime {

const std::vector<std::string>& capability_names() {
  // Index is the capability number (linux/capability.h).
  static const std::vector<std::string> names = {
      "CAP_CHOWN",          "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
      "CAP_FSETID",         "CAP_KILL",         "CAP_SETGID",          "CAP_SETUID",
      "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",      "CAP_NET_RAW",      "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",    "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",    "CAP_SYS_BOOT",        "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",   "CAP_SYS_TIME",     "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
      "CAP_LEASE",          "CAP_AUDIT_WRITE",  "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",    "CAP_SYSLOG",          "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",   "CAP_PERFMON",         "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE",
  };
  return names;
}

std::optional<int> capability_from_name(const std::string& name) {
  const auto& names = capability_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

int kernel_last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = 0;
  if (in >> n && n > 0 && n < 64) return n;
  return 40;
}

CapSets capsets_from_spec(const Capabilities& c, int last_cap, std::vector<std::string>& ignored) {
  auto mask = [&](const std::vector<std::string>& list) {
    uint64_t m = 0;
    for (const auto& n : list) {
      auto num = capability_from_name(n);
      if (!num || *num > last_cap) {
        ignored.push_back(n);
        continue;
      }
      m |= uint64_t{1} << *num;
    }
    return m;
  };
  CapSets s;
  s.bounding = mask(c.bounding);
  s.effective = mask(c.effective);
  s.inheritable = mask(c.inheritable);
  s.permitted = mask(c.permitted);
  s.ambient = mask(c.ambient);
  return s;
}

int drop_bounding(const CapSets& s, int last_cap, std::string& what) {
  for (int c = 0; c <= last_cap; ++c) {
    if (s.bounding & (uint64_t{1} << c)) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
      what = "prctl(PR_CAPBSET_DROP, " + capability_names()[static_cast<size_t>(c)] + ")";
      return errno;
    }
  }
  return 0;
}

int apply_capsets(const CapSets& s, int last_cap, std::string& what) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<uint32_t>(s.effective);
  data[1].effective = static_cast<uint32_t>(s.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(s.permitted);
  data[1].permitted = static_cast<uint32_t>(s.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(s.inheritable);
  data[1].inheritable = static_cast<uint32_t>(s.inheritable >> 32);
  if (::syscall(SYS_capset, &hdr, data) != 0) {
    what = "capset";
    return errno;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    what = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
    return errno;
  }
  for (int c = 0; c <= last_cap; ++c) {
    if (!(s.ambient & (uint64_t{1} << c))) continue;
    // The kernel refuses an ambient capability missing from permitted or
    // inheritable; runc skips those too.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0 && errno != EPERM) {
      what = "prctl(PR_CAP_AMBIENT_RAISE, " + capability_names()[static_cast<size_t>(c)] + ")";
      return errno;
    }
  }
  return 0;
}

}  // namespace crius::oci::runtime
