// Helpers for the conformance and minimal-config e2e tests: configs as
// critest, crictl and kubelet send them at their barest (only what the CRI
// requires), one-line RPC calls, and what the tests read on the node.
#pragma once

// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace crius::test {

// One unary call on a stub with a deadline: call(d.runtime(), &v1::RuntimeService::Stub::Version, req, &res).
template <class Stub, class Req, class Res>
grpc::Status call(const std::unique_ptr<Stub>& stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Res*),
                  const Req& req, Res* res, int seconds = 60) {
  return ((*stub).*rpc)(deadline_ctx(seconds).get(), req, res);
}

// "<code> <message>", for failure output.
inline std::string describe(const grpc::Status& s) {
  return std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message();
}

inline std::string random_hex_string(size_t n) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::string s;
  for (size_t i = 0; i < n; ++i) s += "0123456789abcdef"[rng() % 16];
  return s;
}

// A full-length ID that no pod, container or image of the daemon has.
inline std::string unknown_id() { return random_hex_string(64); }

// A PodSandboxConfig with metadata only: no hostname, linux section, log
// directory, DNS config, port mappings, labels or annotations.
inline v1::PodSandboxConfig bare_pod_config(const std::string& name) {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_uid("uid-" + random_hex_string(16));
  c.mutable_metadata()->set_namespace_("crius-test");
  c.mutable_metadata()->set_attempt(0);
  return c;
}

// A ContainerConfig with metadata (attempt 0), image and command only: no
// linux section, log path, labels, annotations, mounts or envs.
inline v1::ContainerConfig bare_container_config(const std::string& name, const std::string& image,
                                                 const std::vector<std::string>& cmd) {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_image()->set_image(image);
  for (const auto& a : cmd) c.add_command(a);
  return c;
}

// What gethostname() gives in the test process: the node's hostname.
inline std::string node_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) throw std::runtime_error("gethostname failed");
  return buf;
}

// The namespace link of /proc/<who>/ns/<kind> ("uts:[4026531838]"); who is a pid or "self".
inline std::string ns_link_of(const std::string& who, const char* kind) {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/" + who + "/ns/" + kind, ec).string();
}

inline std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

inline int container_pid(Daemon& d, const std::string& id) { return container_info(d, id).value("pid", 0); }

inline std::vector<v1::PodSandbox> list_pods(Daemon& d, const v1::ListPodSandboxRequest& req = {}) {
  v1::ListPodSandboxResponse res;
  auto s = call(d.runtime(), &v1::RuntimeService::Stub::ListPodSandbox, req, &res);
  if (!s.ok()) throw std::runtime_error("ListPodSandbox: " + describe(s));
  return {res.items().begin(), res.items().end()};
}

inline std::vector<v1::Container> list_containers(Daemon& d, const v1::ListContainersRequest& req = {}) {
  v1::ListContainersResponse res;
  auto s = call(d.runtime(), &v1::RuntimeService::Stub::ListContainers, req, &res);
  if (!s.ok()) throw std::runtime_error("ListContainers: " + describe(s));
  return {res.containers().begin(), res.containers().end()};
}

// ImageStatus of `image`; the status goes to *st.
inline v1::ImageStatusResponse image_status(Daemon& d, const std::string& image, grpc::Status* st,
                                            bool verbose = false) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(image);
  req.set_verbose(verbose);
  v1::ImageStatusResponse res;
  *st = call(d.image(), &v1::ImageService::Stub::ImageStatus, req, &res);
  return res;
}

inline grpc::Status remove_image(Daemon& d, const std::string& image) {
  v1::RemoveImageRequest req;
  req.mutable_image()->set_image(image);
  v1::RemoveImageResponse res;
  return call(d.image(), &v1::ImageService::Stub::RemoveImage, req, &res);
}

// Mount points listed in the mountinfo file at `mountinfo` (octal escapes
// such as \040 left as they are: the tests' paths have none).
inline std::vector<std::string> mount_points(const std::string& mountinfo = "/proc/self/mountinfo") {
  std::ifstream in(mountinfo);
  std::string line;
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    if (f >> id >> parent >> dev >> root >> point) out.push_back(point);
  }
  return out;
}

inline bool is_mount_point(const std::string& path, const std::string& mountinfo = "/proc/self/mountinfo") {
  for (const auto& p : mount_points(mountinfo))
    if (p == path) return true;
  return false;
}

// Directories under the daemon's container state dir: one per container bundle.
inline size_t container_bundles(Daemon& d) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(d.dir() / "state/containers", ec)) n += e.is_directory();
  return n;
}

// A cgroup file of `pid`: <v1_file> in the v1 hierarchy holding `controller`
// or, on a cgroup v2 host, <v2_file> in its unified cgroup; "" when unreadable.
inline std::string cgroup_value(int pid, const std::string& controller, const std::string& v1_file,
                                const std::string& v2_file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line, unified;
  auto read_first_line = [](const std::string& path) {
    std::ifstream f(path);
    std::string v;
    if (!std::getline(f, v)) return std::string();
    return v;
  };
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (ctrls.empty()) {
      unified = path;
      continue;
    }
    std::stringstream list(ctrls);
    std::string c;
    while (std::getline(list, c, ','))
      if (c == controller) return read_first_line("/sys/fs/cgroup/" + ctrls + path + "/" + v1_file);
  }
  if (!unified.empty() && std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers"))
    return read_first_line("/sys/fs/cgroup" + unified + "/" + v2_file);
  return "";
}

}  // namespace crius::test
