#include "sandbox/pod_files.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cerrno>

#include "base/error.h"
#include "base/file.h"

namespace crius::sandbox {

std::string resolv_conf_text(const DnsConfig& dns, const std::string& host_resolv_conf) {
  if (dns.empty()) return read_file_or_empty(host_resolv_conf);
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

Mount mount_shm(const std::string& path, uint64_t size_bytes) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw Internal(errno_text("creating shm dir " + path, errno));
  return Mount::make("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=1777,size=" + std::to_string(size_bytes), "mounting the pod's /dev/shm tmpfs at " + path);
}

}  // namespace crius::sandbox
