// exec: a new process in a running container, from --process FILE or from
// the command line with the container's own process as the template.
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "oci/runtime/cli_internal.h"
#include "oci/runtime/exec.h"
#include "oci/runtime/spec.h"

namespace crius::oci::runtime::cli {
namespace {

uint32_t parse_id(const std::string& v, const std::string& flag) {
  try {
    size_t pos;
    unsigned long n = std::stoul(v, &pos);
    if (pos != v.size() || v[0] == '-' || n > UINT32_MAX) throw std::invalid_argument(v);
    return static_cast<uint32_t>(n);
  } catch (const std::exception&) {
    throw InvalidArgument("exec: --" + flag + ": \"" + v + "\" is not a numeric id");
  }
}

// The process of `exec`: --process FILE as is, or the container's own
// process with the command and the flags applied (as runc builds it).
Process exec_process_from_args(const Container& c, const ParsedArgs& a, const std::vector<std::string>& cmd) {
  if (a.has("process")) {
    if (!cmd.empty()) throw InvalidArgument("exec: --process and a command cannot both be given");
    const std::string path = a.get("process");
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument("exec: " + path + ": invalid JSON: " + e.what());
    }
    try {
      return parse_process(doc);
    } catch (const Error& e) {
      throw Error(e.code(), "exec: " + path + ": " + e.what());
    }
  }
  if (cmd.empty()) throw InvalidArgument("exec: a command is required: exec <id> [flags] [--] cmd [args…]");
  const Spec spec = parse_spec(c.state().config);
  Process p = spec.process ? *spec.process : Process{};
  p.args = cmd;
  p.terminal = a.has("tty");
  p.console_size.reset();
  if (a.has("cwd")) p.cwd = a.get("cwd");
  if (a.has("apparmor")) p.apparmor_profile = a.get("apparmor");
  if (a.has("no-new-privs")) p.no_new_privileges = true;
  if (a.has("process-label")) p.selinux_label = a.get("process-label");
  for (const auto& [k, v] : a.flags) {
    if (k == "env") {
      p.env.push_back(v);
    } else if (k == "cap") {
      if (!p.capabilities) p.capabilities = Capabilities{};
      auto& cs = *p.capabilities;
      cs.bounding.push_back(v);
      cs.effective.push_back(v);
      cs.permitted.push_back(v);
      // Ambient needs the inheritable bit: only when the container has some.
      if (!cs.inheritable.empty()) cs.ambient.push_back(v);
    } else if (k == "additional-gids") {
      p.user.additional_gids.push_back(parse_id(v, "additional-gids"));
    } else if (k == "user") {
      auto colon = v.find(':');
      p.user.uid = parse_id(v.substr(0, colon), "user");
      if (colon != std::string::npos) p.user.gid = parse_id(v.substr(colon + 1), "user");
    }
  }
  return p;
}

}  // namespace

int cmd_exec(const std::string& root, const ParsedArgs& a) {
  if (a.positional.empty()) throw InvalidArgument("exec: a container ID is required");
  const std::string id = a.positional[0];
  const std::vector<std::string> cmd(a.positional.begin() + 1, a.positional.end());
  Container c = Container::load(root, id);
  const Process p = exec_process_from_args(c, a, cmd);
  ExecOptions opts;
  opts.console_socket = a.get("console-socket");
  opts.pid_file = a.get("pid-file");
  if (a.has("preserve-fds")) opts.preserve_fds = parse_int(a.get("preserve-fds"), "preserve-fds");
  opts.ignore_paused = a.has("ignore-paused");
  for (const auto& [k, v] : a.flags)
    if (k == "cgroup") opts.sub_cgroups.push_back(v);
  if (a.has("detach")) {
    if (p.terminal && opts.console_socket.empty())
      throw InvalidArgument("exec: --detach with a terminal needs --console-socket");
    exec_process(c, p, opts);
    return 0;
  }
  std::optional<ConsolePair> console;
  if (p.terminal && opts.console_socket.empty()) {
    console = make_console_pair();
    opts.console_fd = console->theirs.get();
  }
  ForwardedSignals signals;
  // The process is our own child (exec_process clones it so).
  const pid_t pid = exec_process(c, p, opts);
  std::unique_ptr<TerminalProxy> tty;
  if (console) tty = take_terminal(*console);
  return wait_in_foreground(pid, signals.fd(), std::move(tty));
}

}  // namespace crius::oci::runtime::cli
