#include "oci/runtime/process.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "base/error.h"

namespace crius::oci::runtime {

int rlimit_resource(const std::string& name) {
  static const std::map<std::string, int> m = {
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  auto it = m.find(name);
  if (it == m.end()) throw InvalidArgument("unknown rlimit \"" + name + "\"");
  return it->second;
}

void check_sysctl(const std::string& key, const NamespacePlan& ns) {
  auto need = [&](int flag, const char* what) {
    if (!ns.has(flag))
      throw InvalidArgument("sysctl \"" + key + "\" is not allowed: the container has no " + what + " namespace of its own");
  };
  static const char* kIpc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const char* k : kIpc)
    if (key == k) return need(CLONE_NEWIPC, "ipc");
  if (key.starts_with("fs.mqueue.")) return need(CLONE_NEWIPC, "ipc");
  if (key.starts_with("net.")) return need(CLONE_NEWNET, "network");
  if (key == "kernel.hostname" || key == "kernel.domainname") return need(CLONE_NEWUTS, "uts");
  throw InvalidArgument("sysctl \"" + key + "\" is not in a separate kernel namespace");
}

std::string sysctl_path(const std::string& key) {
  std::string p = "/proc/sys/";
  for (char c : key) p += c == '.' ? '/' : c;
  return p;
}

std::optional<std::string> env_get(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return std::nullopt;
}

std::string find_executable(const std::string& arg0, const std::vector<std::string>& env) {
  if (arg0.empty()) return {};
  if (arg0.find('/') != std::string::npos) return arg0;
  std::string path = env_get(env, "PATH").value_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    // An empty PATH entry means the current directory.
    std::string cand = dir.empty() ? std::string(1, '.') : dir;
    cand += '/';
    cand += arg0;
    struct stat st;
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return cand;
  }
  return {};
}

std::string home_of(uid_t uid, const std::string& passwd) {
  std::ifstream in(passwd);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ':')) f.push_back(x);
    if (f.size() >= 6 && f[2] == std::to_string(uid) && !f[5].empty()) return f[5];
  }
  return "/";
}

}  // namespace crius::oci::runtime
