#include "sandbox/pod_files.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "conf/error.h"

namespace crius::sandbox {

std::string resolv_conf_text(const DnsConfig& dns, const std::string& host_resolv_conf) {
  if (dns.empty()) {
    std::ifstream in(host_resolv_conf);
    if (!in) return "";
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string out;
  auto line = [&out](const char* key, const std::vector<std::string>& values) {
    if (values.empty()) return;
    out += key;
    for (const auto& v : values) out += " " + v;
    out += "\n";
  };
  line("search", dns.searches);
  for (const auto& s : dns.servers) out += "nameserver " + s + "\n";
  line("options", dns.options);
  return out;
}

std::string hosts_text(const std::string& hostname, const std::vector<std::string>& ips) {
  std::string t =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  for (const auto& ip : ips) t += ip + "\t" + hostname + "\n";
  return t;
}

std::string node_hostname() {
  utsname u{};
  ::uname(&u);
  return u.nodename;
}

void mount_shm(const std::string& path, uint64_t size_bytes) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw Internal(errno_text("creating shm dir " + path, errno));
  const std::string opts = "mode=1777,size=" + std::to_string(size_bytes);
  if (::mount("shm", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts.c_str()) != 0)
    throw Internal(errno_text("mounting the pod's /dev/shm tmpfs at " + path, errno));
}

void unmount_shm(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    throw Internal(errno_text("unmounting the pod's shm " + path, errno));
}

}  // namespace crius::sandbox
