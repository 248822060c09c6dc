// A crius daemon started for one test: private root, state, socket, CNI
// config dir and metrics port under a temporary directory, stopped and
// cleaned up by the destructor.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/cri.grpc.pb.h"

namespace crius::test {

// A temporary directory removed with everything under it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
int free_tcp_port();

// Runs the crius binary with args; returns its exit code, stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
CommandResult run_crius(const std::vector<std::string>& args, int timeout_seconds = 20);

struct DaemonOptions {
  std::string config_yaml;                  // written to <dir>/crius.yaml
  std::vector<std::string> extra_args;      // appended to the command line
  std::map<std::string, std::string> env;   // added to the environment
  bool wait_ready = true;
  // Run the daemon in a private mount namespace where the cgroup v2 mount of
  // a hybrid host lists no controllers: crun refuses such hosts otherwise.
  bool hide_cgroup_v2_controllers = false;
  // Rootless: the daemon runs as this user, with an environment of only
  // HOME, XDG_RUNTIME_DIR and PATH (plus `env`), and with its built-in root
  // and state (the user's XDG places) instead of private ones.
  struct User {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home, runtime_dir;
  };
  std::optional<User> user;
  // Put before the daemon's command line (e.g. unshare and its flags).
  std::vector<std::string> wrapper;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options = DaemonOptions());
  ~Daemon();

  const TempDir& dir() const { return dir_; }
  // What the next start()/restart() uses (a test changes its env between runs).
  DaemonOptions& options() { return options_; }
  std::string socket() const {
    return options_.user ? options_.user->runtime_dir + "/crius/crius.sock" : dir_ / "state/crius.sock";
  }
  std::string metrics_address() const { return "127.0.0.1:" + std::to_string(metrics_port_); }
  pid_t pid() const { return pid_; }
  std::vector<std::string> args() const;

  // Sends a signal and waits (bounded) for the exit; returns the exit code.
  int stop(int signal = 15);
  // Starts it again on the same directories (after stop, or stopping it
  // with SIGTERM first); the earlier log moves to stderr.before-restart.
  void restart();
  bool running();
  // Everything the daemon wrote to stderr so far.
  std::string log() const;
  bool wait_for_log(const std::string& needle, int timeout_ms = 10000) const;
  // Rewrites <dir>/crius.yaml, sends SIGHUP and waits (bounded) for the
  // daemon to log the outcome: true when it took the new config, false when
  // it refused it (or said nothing).
  bool reload(const std::string& config_yaml);

  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime();
  std::unique_ptr<runtime::v1::ImageService::Stub> image();
  std::shared_ptr<grpc::Channel> channel();

 private:
  void start();
  DaemonOptions options_;
  TempDir dir_;
  int metrics_port_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  // Tests call runtime() from many threads at once (SlowRpcsDoNotHoldUpFastOnes):
  // the lazily made channel is shared under this lock.
  std::mutex channel_mu_;
  std::shared_ptr<grpc::Channel> channel_;
};

// The body of a plain HTTP/1.0 GET, or "" when the connection fails.
std::string http_get(const std::string& host_port, const std::string& path);

}  // namespace crius::test
