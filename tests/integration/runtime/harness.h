// Harness for driving an OCI runtime binary through runc's command line:
// processes with bounded waits, temp dirs, bundles built from the busybox
// fixture, containers that always clean up after themselves.
// It has no GoogleTest dependency so that tests/bench/runtime can link it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crius::testing::rt {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---------------------------------------------------------------- processes

struct SpawnOptions {
  std::chrono::milliseconds timeout = 20s;
  fs::path cwd;               // empty: inherit
  std::vector<int> pass_fds;  // become fds 3, 4, … in the child
  std::string stdin_data;     // written to a memfd given as stdin
};

struct Result {
  std::vector<std::string> argv;
  int exit_code = -1;  // -1 when killed by a signal or timed out
  int term_signal = 0;
  bool timed_out = false;
  std::string out, err;

  bool ok() const { return exit_code == 0; }
  // One line for assertion messages: the command, its status and output.
  std::string describe() const;
};

// Runs argv[0] (a path) with stdout/stderr captured in memory files (not
// pipes: a container created by the command inherits them and may outlive
// it). Kills it with SIGKILL when the timeout passes.
Result spawn(const std::vector<std::string>& argv, const SpawnOptions& opts = {});

// ---------------------------------------------------------------- host setup

// Done once per test/bench process, before any thread exists:
//  - become a child subreaper, so that container processes whose runtime has
//    exited are reparented to us and can be reaped and counted;
//  - on a hybrid cgroup host whose cgroup2 hierarchy has controllers, crun
//    refuses to start anything ("cgroups in hybrid mode not supported").
//    We then move into a private mount namespace (slave of the host) and hide
//    /sys/fs/cgroup/unified/cgroup.controllers behind /dev/null. Every runtime
//    runs in that same namespace, so the comparison stays fair.
// Returns a note describing what was done (empty if nothing).
std::string prepare_host();

// Reaps every zombie child of this process (no spawn may be in progress).
void reap_zombies();
// Live (non-zombie) processes whose parent is this process.
std::vector<pid_t> live_children();
// Waits until pid is dead (reaped, gone or a zombie of someone else).
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout = 5s);
bool pid_alive(pid_t pid);

// ---------------------------------------------------------------- files

std::string read_file(const fs::path& p);  // "" if unreadable
void write_file(const fs::path& p, const std::string& text);
// Polls until the file exists (and is non-empty when `non_empty`).
bool wait_for_file(const fs::path& p, std::chrono::milliseconds timeout = 5s, bool non_empty = false);

// A line "Key:\tvalue" of /proc/<pid>/status, the value trimmed.
std::string proc_status_field(pid_t pid, const std::string& key);
// Inode of /proc/<pid>/ns/<type> (0 if unreadable).
ino_t ns_inode(pid_t pid, const std::string& type);
// Waits until /proc/<pid>/comm equals comm (the user's program has been exec'd).
bool wait_for_comm(pid_t pid, const std::string& comm, std::chrono::milliseconds timeout = 5s);

struct MountEntry {
  std::string mount_point, root, fstype, source;
  std::string mount_options, optional_fields, super_options;
  bool has_option(const std::string& opt) const;  // in mount or super options
};
std::vector<MountEntry> mountinfo(pid_t pid);  // 0: self
// Mount points of this process's namespace at or under dir.
std::vector<std::string> mounts_under(const fs::path& dir);

// Capability bit mask from names ("CAP_CHOWN", …).
uint64_t cap_mask(const std::vector<std::string>& names);

// A temporary directory, removed with everything in it (mounts still under it
// are detached first so that removal can never reach through a bind mount).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "crius-rt-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A mount made by a test in its own namespace, detached on destruction.
class HostMount {
 public:
  HostMount(const std::string& source, const fs::path& target, const std::string& fstype, unsigned long flags,
            const std::string& data = "");
  ~HostMount();
  HostMount(const HostMount&) = delete;
  HostMount& operator=(const HostMount&) = delete;
  // Changes the propagation type of the mount (MS_SHARED, MS_SLAVE, MS_PRIVATE).
  void set_propagation(unsigned long type);

 private:
  fs::path target_;
};

// A named network namespace made with `ip netns add`, deleted on destruction.
class NetNs {
 public:
  NetNs();
  ~NetNs();
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;
  const std::string& name() const { return name_; }
  fs::path path() const { return fs::path("/run/netns") / name_; }

 private:
  std::string name_;
};

// ---------------------------------------------------------------- bundles

// The config.json that `runc spec` writes (runc 1.1's defaults), built by us.
nlohmann::json default_spec();

// A bundle directory: rootfs/ from the busybox fixture, config.json from
// default_spec() with the test baseline applied (no terminal, writable
// root, args = sh). Tests edit `spec` and call write() (create/run do it).
class Bundle {
 public:
  explicit Bundle(const fs::path& dir);
  const fs::path& dir() const { return dir_; }
  fs::path rootfs() const { return dir_ / "rootfs"; }
  nlohmann::json spec;

  void args(const std::vector<std::string>& argv);
  // Shorthand for args({"sh", "-c", script}).
  void sh(const std::string& script);
  void add_mount(const std::string& dest, const std::string& type, const std::string& source,
                 const std::vector<std::string>& options);
  void remove_namespace(const std::string& type);
  void remove_mount(const std::string& destination);
  void add_namespace(const std::string& type, const std::string& path = "");
  void write() const;

 private:
  fs::path dir_;
};

// ---------------------------------------------------------------- runtime

class Runtime {
 public:
  // name: "runc", "crun", "crius-runtime"; root: private state directory;
  // global: extra global flags put before every verb.
  Runtime(std::string name, std::string binary, fs::path root, std::vector<std::string> global = {});
  const std::string& name() const { return name_; }
  const std::string& binary() const { return binary_; }
  const fs::path& root() const { return root_; }

  // <binary> --root <root> <global…> <args…>
  Result cmd(const std::vector<std::string>& args, const SpawnOptions& opts = {},
             const std::vector<std::string>& global = {}) const;

  Result create(const std::string& id, const Bundle& b, const std::vector<std::string>& flags = {},
                const SpawnOptions& opts = {}) const;
  Result start(const std::string& id) const;
  Result state(const std::string& id) const;
  Result kill(const std::string& id, const std::string& signal = "", bool all = false) const;
  Result del(const std::string& id, bool force = false) const;
  Result run(const std::string& id, const Bundle& b, std::chrono::milliseconds timeout = 20s) const;
  Result list() const;
  // `spec` run in dir (it writes dir/config.json); `features`.
  Result spec(const fs::path& dir) const;
  Result features() const;

  // The parsed state; throws std::runtime_error naming the output if it fails.
  nlohmann::json state_json(const std::string& id) const;
  std::string status(const std::string& id) const;  // "" when state fails
  // Polls state until status == want.
  bool wait_status(const std::string& id, const std::string& want, std::chrono::milliseconds timeout = 5s) const;

 private:
  std::string name_, binary_;
  fs::path root_;
  std::vector<std::string> global_;
};

// A created container that is force-deleted (and its processes reaped) on
// destruction, whatever the test did.
class Container {
 public:
  Container(const Runtime& rt, std::string id) : rt_(rt), id_(std::move(id)) {}
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;
  const std::string& id() const { return id_; }
  // Creates it; returns the create result (check ok()).
  Result create(const Bundle& b, const std::vector<std::string>& flags = {});
  // Create + start + wait for the user's program (comm) to have been exec'd;
  // returns the pid, or -1 with `error` set.
  pid_t launch(const Bundle& b, const std::string& comm, std::string* error);
  pid_t pid() const;  // from state, -1 if unknown
  pid_t last_pid() const { return pid_; }

 private:
  const Runtime& rt_;
  std::string id_;
  pid_t pid_ = -1;
};

// Unique container id for this process.
std::string unique_id(const std::string& hint);

}  // namespace crius::testing::rt
