#include "oci/runtime/cli.h"

#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "conf/error.h"
#include "conf/version.h"
#include "oci/runtime/console.h"
#include "oci/runtime/container.h"
#include "oci/runtime/defaults.h"
#include "oci/runtime/log.h"
#include "oci/runtime/sys.h"
#include "oci/runtime/terminal.h"
#include "oci/spec.h"

namespace crius::oci::runtime {
namespace {

struct FlagSpec {
  std::set<std::string> values;    // flags that take a value
  std::set<std::string> switches;  // boolean flags
  std::map<std::string, std::string> aliases;
};

const FlagSpec& global_flags() {
  static const FlagSpec f{{"root", "log", "log-format", "rootless", "criu"},
                          {"debug", "systemd-cgroup", "help", "version"},
                          {{"h", "help"}, {"v", "version"}}};
  return f;
}

const FlagSpec* command_flags(const std::string& cmd) {
  static const std::map<std::string, FlagSpec> m = {
      {"create", {{"bundle", "console-socket", "pid-file", "preserve-fds"}, {"no-pivot", "no-new-keyring"}, {{"b", "bundle"}}}},
      {"run",
       {{"bundle", "console-socket", "pid-file", "preserve-fds"},
        {"no-pivot", "no-new-keyring", "detach", "keep", "no-subreaper"},
        {{"b", "bundle"}, {"d", "detach"}}}},
      {"start", {}},
      {"state", {}},
      {"kill", {{}, {"all"}, {{"a", "all"}}}},
      {"delete", {{}, {"force"}, {{"f", "force"}}}},
      {"list", {{"format"}, {"quiet"}, {{"f", "format"}, {"q", "quiet"}}}},
      {"spec", {{"bundle"}, {"rootless"}, {{"b", "bundle"}}}},
      {"features", {}},
  };
  auto it = m.find(cmd);
  return it == m.end() ? nullptr : &it->second;
}

const std::set<std::string>& unsupported_commands() {
  static const std::set<std::string> s = {"exec", "pause", "resume", "update", "ps", "checkpoint", "restore", "events"};
  return s;
}

void usage() {
  std::cout << "usage: crius-runtime [global flags] <command> [flags] <container-id>\n"
               "\n"
               "commands: create, start, state, kill, delete, run, list, spec, features\n"
               "          (exec, pause, resume, update, ps: not supported yet)\n"
               "\n"
               "global flags:\n"
               "  --root DIR            state directory (default /run/crius-runtime)\n"
               "  --log FILE            log file (default stderr)\n"
               "  --log-format FORMAT   text or json\n"
               "  --debug               log debug messages\n"
               "  --systemd-cgroup      accepted for runc compatibility\n";
}

std::string need_id(const ParsedArgs& a) {
  if (a.positional.empty()) throw InvalidArgument(a.command + ": a container ID is required");
  if (a.positional.size() > 1 && a.command != "kill")
    throw InvalidArgument(a.command + ": unexpected argument \"" + a.positional[1] + "\"");
  return a.positional[0];
}

int parse_int(const std::string& v, const std::string& flag) {
  try {
    size_t pos;
    int n = std::stoi(v, &pos);
    if (pos != v.size() || n < 0) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw InvalidArgument("--" + flag + ": \"" + v + "\" is not a non-negative integer");
  }
}

CreateOptions create_options(const ParsedArgs& a) {
  CreateOptions o;
  o.bundle = a.get("bundle", ".");
  o.console_socket = a.get("console-socket");
  o.pid_file = a.get("pid-file");
  if (a.has("preserve-fds")) o.preserve_fds = parse_int(a.get("preserve-fds"), "preserve-fds");
  o.no_new_keyring = a.has("no-new-keyring");
  return o;
}

int cmd_run(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  if (a.has("detach")) {
    Container c = Container::create(root, id, create_options(a));
    try {
      c.start();
    } catch (...) {
      try {
        c.destroy(true);
      } catch (...) {
      }
      throw;
    }
    return 0;
  }
  CreateOptions opts = create_options(a);
  opts.start_immediately = true;
  // A terminal without --console-socket: keep the pty here and proxy it.
  Fd console_mine, console_theirs;
  if (opts.console_socket.empty()) {
    const Spec spec = load_spec(opts.bundle);
    if (spec.process && spec.process->terminal) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
      console_mine.reset(sv[0]);
      console_theirs.reset(sv[1]);
      opts.console_fd = console_theirs.get();
    }
  }
  // The init may be a grandchild (joined pid/user namespace): adopt it.
  if (!a.has("no-subreaper")) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, &old);
  Fd sigfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) throw_errno("signalfd");
  Container c = Container::create(root, id, opts);
  int code = 255;
  try {
    std::unique_ptr<TerminalProxy> tty;
    if (console_mine) {
      console_theirs.reset();
      tty = std::make_unique<TerminalProxy>(receive_fd(console_mine.get()));
    }
    rtlog::debug("run " + id + ": started");
    const pid_t init = c.pid();
    bool done = false;
    while (!done) {
      // Reap first: the init may already be gone.
      for (;;) {
        int status;
        pid_t p = ::waitpid(-1, &status, WNOHANG);
        if (p <= 0) break;
        if (p == init) {
          code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          done = true;
        }
      }
      if (done) break;
      if (tty) {
        if (!tty->pump(-1, sigfd.get())) tty.reset();
      } else {
        struct pollfd p {sigfd.get(), POLLIN, 0};
        ::poll(&p, 1, -1);
      }
      signalfd_siginfo si;
      while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH && tty) {
          winsize ws{};
          if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(tty->master(), TIOCSWINSZ, &ws);
        } else if (sig != SIGCHLD) {
          ::kill(init, sig);
        }
      }
    }
    if (tty) tty->drain();
  } catch (...) {
    try {
      c.destroy(true);
    } catch (...) {
    }
    throw;
  }
  rtlog::debug("run " + id + ": exited");
  if (!a.has("keep")) c.destroy(true);
  rtlog::debug("run " + id + ": deleted");
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return code;
}

int cmd_list(const std::string& root, const ParsedArgs& a) {
  auto all = Container::list(root);
  const std::string format = a.get("format", "table");
  if (a.has("quiet")) {
    for (const auto& s : all) std::cout << s.id << "\n";
    return 0;
  }
  if (format == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& s : all) arr.push_back(s.to_public_json());
    std::cout << arr.dump() << "\n";
    return 0;
  }
  if (format != "table") throw InvalidArgument("list: unknown --format \"" + format + "\" (table or json)");
  std::printf("%-12s %-10s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (const auto& s : all)
    std::printf("%-12s %-10d %-10s %-40s %-32s %s\n", s.id.c_str(), s.status == Status::stopped ? 0 : s.pid,
                status_name(s.status), s.bundle.c_str(), s.created.c_str(), s.owner.c_str());
  return 0;
}

int cmd_spec(const ParsedArgs& a) {
  if (a.has("rootless")) throw Unimplemented("spec --rootless is not supported yet");
  const std::string path = a.get("bundle", ".") + "/config.json";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) throw AlreadyExists("File " + path + " exists. Remove it first");
  write_file(path, default_spec().dump(4) + "\n", O_CREAT | O_EXCL);
  return 0;
}

int dispatch(const ParsedArgs& a) {
  const std::string root = a.get("root", "/run/crius-runtime");
  const std::string& cmd = a.command;
  if (cmd == "create") {
    Container::create(root, need_id(a), create_options(a));
    return 0;
  }
  if (cmd == "start") {
    Container::load(root, need_id(a)).start();
    return 0;
  }
  if (cmd == "state") {
    std::cout << Container::load(root, need_id(a)).state().to_public_json().dump(2) << "\n";
    return 0;
  }
  if (cmd == "kill") {
    const std::string id = need_id(a);
    if (a.positional.size() > 2) throw InvalidArgument("kill: unexpected argument \"" + a.positional[2] + "\"");
    int sig = SIGTERM;
    if (a.positional.size() == 2) {
      auto s = parse_signal(a.positional[1]);
      if (!s) throw InvalidArgument("kill: unknown signal \"" + a.positional[1] + "\"");
      sig = *s;
    }
    Container::load(root, id).kill(sig, a.has("all"));
    return 0;
  }
  if (cmd == "delete") {
    const std::string id = need_id(a);
    try {
      Container::load(root, id).destroy(a.has("force"));
    } catch (const Error& e) {
      // runc: a forced delete of a container that is already gone succeeds.
      if (!(a.has("force") && e.code() == ErrorCode::not_found)) throw;
    }
    return 0;
  }
  if (cmd == "run") return cmd_run(root, a);
  if (cmd == "list") return cmd_list(root, a);
  if (cmd == "spec") return cmd_spec(a);
  if (cmd == "features") {
    std::cout << features().dump(4) << "\n";
    return 0;
  }
  throw InvalidArgument("unknown command \"" + cmd + "\"");
}

}  // namespace

bool ParsedArgs::has(const std::string& name) const {
  for (const auto& [k, v] : flags)
    if (k == name) return true;
  return false;
}

std::string ParsedArgs::get(const std::string& name, const std::string& dflt) const {
  std::string out = dflt;
  for (const auto& [k, v] : flags)
    if (k == name) out = v;  // the last one wins
  return out;
}

ParsedArgs parse_args(const std::vector<std::string>& args) {
  ParsedArgs out;
  const FlagSpec* spec = &global_flags();
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      if (out.command.empty()) {
        out.command = arg;
        spec = command_flags(arg);
        if (!spec) {
          if (!unsupported_commands().count(arg)) throw InvalidArgument("unknown command \"" + arg + "\"");
          flags_done = true;  // its arguments do not matter
        }
      } else {
        out.positional.push_back(arg);
      }
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (auto al = spec->aliases.find(name); al != spec->aliases.end()) name = al->second;
    const std::string where = out.command.empty() ? "" : out.command + ": ";
    if (spec->values.count(name)) {
      if (!value) {
        if (i + 1 >= args.size()) throw InvalidArgument(where + "flag --" + name + " needs a value");
        value = args[++i];
      }
      out.flags.emplace_back(name, *value);
    } else if (spec->switches.count(name)) {
      if (value && *value != "true" && *value != "false")
        throw InvalidArgument(where + "flag --" + name + " takes no value");
      if (!value || *value == "true") out.flags.emplace_back(name, "");
    } else {
      throw InvalidArgument(where + "unknown flag " + arg);
    }
  }
  return out;
}

std::optional<int> parse_signal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    try {
      size_t pos;
      int n = std::stoi(text, &pos);
      if (pos == text.size() && n > 0 && n < NSIG) return n;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }
  std::string up;
  for (char c : text) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up.rfind("SIG", 0) == 0) up = up.substr(3);
  for (int s = 1; s < SIGRTMIN; ++s) {
    const char* abbrev = ::sigabbrev_np(s);
    if (abbrev && up == abbrev) return s;
  }
  if (up.rfind("RTMIN", 0) == 0 || up.rfind("RTMAX", 0) == 0) {
    bool min = up[3] == 'I';
    int base = min ? SIGRTMIN : SIGRTMAX;
    std::string rest = up.substr(5);
    if (rest.empty()) return base;
    try {
      int off = std::stoi(rest);
      int s = base + off;
      if (s >= SIGRTMIN && s <= SIGRTMAX) return s;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

int run_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ParsedArgs a;
  try {
    a = parse_args(args);
    if (a.has("help") || (a.command.empty() && !a.has("version"))) {
      usage();
      return a.has("help") ? 0 : 1;
    }
    if (a.has("version")) {
      std::cout << "crius-runtime version " << kVersion << "\nspec: " << kOciVersion << "\n";
      return 0;
    }
    const std::string format = a.get("log-format", "text");
    if (format != "text" && format != "json") throw InvalidArgument("--log-format must be text or json");
    rtlog::configure(a.get("log"), format == "json", a.has("debug"));
    if (unsupported_commands().count(a.command))
      throw Unimplemented(a.command + " is not supported yet by crius-runtime");
    return dispatch(a);
  } catch (const std::exception& e) {
    rtlog::error(e.what());
    if (!rtlog::to_stderr()) std::cerr << e.what() << "\n";
    return 1;
  }
}

}  // namespace crius::oci::runtime
