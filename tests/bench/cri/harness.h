// The side-by-side CRI benchmark's harness: one private run directory per
// benchmark run, containerd 1.6 and crius started on private roots, states
// and sockets inside it (crius's state in a short /run/c<tag> beside it, for
// its monitor sockets' length), a bridge CNI network per daemon, and a cleanup pass
// that removes everything a run made (processes, cgroups, netns, mounts,
// bridges, files; a rootless crius's user, bench_user.h) — at the end of a
// run, and at the start of the next for the leftovers of a run that crashed.
#pragma once

// The proto first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "api/cri.grpc.pb.h"
//
#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crius::fixtures {
class Registry;
}

namespace crius::bench {

namespace v1 = runtime::v1;

// Every run directory is /tmp/<kRunPrefix>XXXXXX; its 6-character suffix is
// the run's tag, used in cgroup paths and bridge names too.
inline constexpr const char* kRunPrefix = "crius-bench-cri-";

// The run directory: made at start (with the owner's pid in it), cleaned up
// and removed by the destructor.
class RunDir {
 public:
  RunDir();
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  const std::string& path() const { return path_; }
  const std::string& tag() const { return tag_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // The cgroup (relative to each hierarchy's root) all pods of this run go under.
  std::string cgroup_root() const { return std::string("/") + kRunPrefix + tag_; }
  // Remembers a resource outside the run directory, for the cleanup pass.
  void note(const std::string& list, const std::string& value) const;

 private:
  std::string path_, tag_;
};

// Cleans up the run directories of earlier runs whose owner is dead.
void cleanup_leftovers();
// Removes everything a run made: kills every process that runs from, holds
// files in, or names the run dir (daemons, shims, monitors, containers),
// kills and removes its cgroups, unmounts its netns pins and mounts, deletes
// its bridges. Does not remove the directory itself.
void cleanup_run(const std::string& dir, const std::string& tag);

// A bridge network with host-local IPAM, made for one daemon.
struct Network {
  Network(const RunDir& run, const std::string& bridge);
  ~Network();
  std::string bridge, subnet_prefix, ipam_dir;
  // bridge + host-local + portmap. Without `ipam_data_dir` host-local keeps
  // its leases where the daemon says (a rootless crius: under its root).
  std::string conflist(const std::string& name, bool ipam_data_dir = true) const;
};

// An unprivileged user a daemon runs as (bench_user.h makes one): its IDs,
// and the only environment it gets besides PATH.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home, runtime_dir;
};

// A daemon that serves the CRI on a unix socket.
class CriDaemon {
 public:
  virtual ~CriDaemon();
  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  v1::RuntimeService::Stub& runtime() { return *runtime_; }
  v1::ImageService::Stub& image() { return *image_; }
  std::string log_tail(size_t bytes = 4000) const;
  // A new directory for one pod's logs (log_directory), the daemon's to write in.
  std::string pod_logs_dir(const std::string& pod) const;
  // Its per-pod helper processes: containerd's shims, crius's monitors.
  virtual std::vector<pid_t> pod_processes() const = 0;
  // Waits (bounded) until none of these blobs is left in the daemon's store.
  virtual bool content_gone(const std::vector<std::string>& digests, std::chrono::seconds timeout) const = 0;
  // Unpacked layers on disk: containerd's overlayfs snapshots, crius's layer dirs.
  virtual size_t layer_count() const = 0;
  // Every directory the daemon keeps state in (crius's state is outside dir()).
  virtual std::vector<std::string> dirs() const { return {dir_}; }
  // Stops every pod over the CRI, then the daemon (SIGTERM, then SIGKILL).
  void shutdown();

 protected:
  CriDaemon(std::string name, std::string dir, std::string socket, std::string logs_dir);
  // Forks and execs argv (its output to dir()/daemon.log); `as`: as that user.
  void spawn(const std::vector<std::string>& argv, const std::optional<RunAs>& as = std::nullopt);
  // Waits for `ready_line` in its log, when given, then for RuntimeReady and NetworkReady.
  void wait_ready(std::chrono::seconds timeout, const std::string& ready_line = "");
  std::string name_, dir_, socket_, logs_dir_;
  std::optional<RunAs> as_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> image_;
};

struct ContainerdOptions {
  std::string binary = "/usr/bin/containerd";
  std::string runc = "/usr/sbin/runc";
  std::string sandbox_image;               // pushed to the loopback registry
  std::vector<std::string> registries;     // "127.0.0.1:PORT": plain-HTTP mirrors of themselves
  std::string cni_bin_dir = "/usr/lib/cni";
};
std::unique_ptr<CriDaemon> start_containerd(const RunDir& run, const Network& net, const ContainerdOptions& o);
// The config.toml start_containerd wrote, for the report.
std::string containerd_config(const CriDaemon& d);

struct CriusOptions {
  std::string binary;
  std::string cni_bin_dirs = "/usr/lib/cni";
  // Rootless: crius runs as this user ("crius-rootless") in its XDG places
  // (root ~/.local/share/crius, state and socket $XDG_RUNTIME_DIR/crius), its
  // config and CNI dir in its home, pods' logs in ~/logs.
  std::optional<RunAs> user;
  std::string registry;  // rootless: "127.0.0.1:PORT", an insecure prefix in its config
};
std::unique_ptr<CriDaemon> start_crius(const RunDir& run, const Network& net, const CriusOptions& o);

// Memory of one process in KiB: VmRSS from status, Pss from smaps_rollup (0 when unreadable).
struct Memory {
  long rss_kb = 0, pss_kb = 0;
};
Memory memory_of(pid_t pid);
// Children (by ppid) of `parent`.
std::vector<pid_t> children_of(pid_t parent);
// Open file descriptors of a process (entries of /proc/PID/fd), -1 when unreadable.
int open_fds(pid_t pid);
// Its threads (Threads: in /proc/PID/status), -1 when unreadable.
int threads_of(pid_t pid);

// containerd pins a pod's netns under /run/netns and its shim's socket under
// /run/containerd/s, outside the run dir: notes both (netns.list,
// shim-sockets.list) so that the cleanup pass of a crashed run finds them.
// `status` is the pod's verbose PodSandboxStatus; a no-op for crius.
void note_pod_outside_run(const RunDir& run, const CriDaemon& d, const v1::PodSandboxStatusResponse& status);

std::unique_ptr<grpc::ClientContext> deadline(std::chrono::seconds s);

// The image calls the figures make, as crictl makes them.
grpc::Status pull(CriDaemon& d, const std::string& ref, std::string* id = nullptr,
                  std::chrono::seconds timeout = std::chrono::seconds(600));
grpc::Status remove_image(CriDaemon& d, const std::string& ref, std::chrono::seconds timeout = std::chrono::seconds(120));
bool image_present(CriDaemon& d, const std::string& ref);

// The non-empty lines of a file (none when it cannot be read).
std::vector<std::string> lines_of(const std::string& path);

// The images every bench pushes to its loopback registry: a pause image
// (containerd needs one; `pause_binary` is crius-pause) and busybox.
struct BaseImages {
  std::string pause, busybox;  // "<registry>/bench/…:1"
};
BaseImages push_base_images(fixtures::Registry& reg, const std::string& pause_binary);

}  // namespace crius::bench
