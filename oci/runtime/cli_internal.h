// What the crius-runtime commands share: the argument readers, create's
// options (also run's), the foreground supervision of `run` and `exec`, and
// the commands themselves for cli.cpp's table.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "base/fd.h"
#include "oci/runtime/cli.h"
#include "oci/runtime/container.h"
#include "oci/runtime/terminal.h"

namespace crius::oci::runtime::cli {

// The container ID, the command's only argument (kill may add a signal).
std::string need_id(const ParsedArgs&);
// A non-negative integer flag value; InvalidArgument naming the flag.
int parse_int(const std::string& value, const std::string& flag);
// The flags create and run share.
CreateOptions create_options(const ParsedArgs&);

// While a foreground process runs (`run`, `exec`): the signals we forward
// to it, read from a signalfd; the mask is restored on every path.
class ForwardedSignals {
 public:
  ForwardedSignals();
  ~ForwardedSignals();
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;
  int fd() const { return fd_.get(); }

 private:
  sigset_t old_{};
  Fd fd_;
};

// A terminal without --console-socket: the runtime keeps the pty itself.
// The container's side of the pair goes in CreateOptions/ExecOptions
// console_fd; take_terminal() then closes it and proxies the master the
// init sends.
struct ConsolePair {
  Fd mine, theirs;
};
ConsolePair make_console_pair();
std::unique_ptr<TerminalProxy> take_terminal(ConsolePair&);

// Reaps children until `pid` exits, proxying the terminal (if any) and
// forwarding signals (window size to the pty); returns its exit status,
// 128+signal when killed.
int wait_in_foreground(pid_t pid, int sigfd, std::unique_ptr<TerminalProxy> tty);

// The commands (cli_<name>.cpp); each returns the exit status.
using Command = int (*)(const std::string& root, const ParsedArgs&);
int cmd_create(const std::string& root, const ParsedArgs&);
int cmd_start(const std::string& root, const ParsedArgs&);
int cmd_run(const std::string& root, const ParsedArgs&);
int cmd_exec(const std::string& root, const ParsedArgs&);
int cmd_state(const std::string& root, const ParsedArgs&);
int cmd_kill(const std::string& root, const ParsedArgs&);
int cmd_delete(const std::string& root, const ParsedArgs&);
int cmd_pause(const std::string& root, const ParsedArgs&);
int cmd_resume(const std::string& root, const ParsedArgs&);
int cmd_update(const std::string& root, const ParsedArgs&);
int cmd_ps(const std::string& root, const ParsedArgs&);
int cmd_events(const std::string& root, const ParsedArgs&);
int cmd_list(const std::string& root, const ParsedArgs&);
int cmd_spec(const std::string& root, const ParsedArgs&);
int cmd_features(const std::string& root, const ParsedArgs&);

}  // namespace crius::oci::runtime::cli
