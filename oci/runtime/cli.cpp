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

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "conf/error.h"
#include "conf/version.h"
#include "oci/runtime/console.h"
#include "oci/runtime/container.h"
#include "oci/runtime/defaults.h"
#include "oci/runtime/exec.h"
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
      {"pause", {}},
      {"resume", {}},
      {"update",
       {{"resources", "blkio-weight", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "cpu-share",
         "cpu-shares", "cpuset-cpus", "cpuset-mems", "kernel-memory", "kernel-memory-tcp", "memory",
         "memory-reservation", "memory-swap", "pids-limit"},
        {},
        {{"r", "resources"}}}},
      {"ps", {{"format"}, {}, {{"f", "format"}}}},
      {"events", {{"interval"}, {"stats"}, {}}},
      {"features", {}},
      {"exec",
       {{"console-socket", "pid-file", "process", "env", "cwd", "user", "additional-gids", "cap", "apparmor",
         "preserve-fds", "process-label", "cgroup"},
        {"tty", "detach", "no-new-privs", "ignore-paused", "no-subreaper"},
        {{"t", "tty"}, {"d", "detach"}, {"e", "env"}, {"u", "user"}, {"g", "additional-gids"}, {"c", "cap"},
         {"p", "process"}}}},
  };
  auto it = m.find(cmd);
  return it == m.end() ? nullptr : &it->second;
}

const std::set<std::string>& unsupported_commands() {
  static const std::set<std::string> s = {"checkpoint", "restore"};
  return s;
}

void usage() {
  std::cout << "usage: crius-runtime [global flags] <command> [flags] <container-id>\n"
               "\n"
               "commands: create, start, state, kill, delete, run, exec, list, spec, features\n"
               "          pause, resume, update, ps, events [--stats] [--interval D]\n"
               "\n"
               "global flags:\n"
               "  --root DIR            state directory (default /run/crius-runtime)\n"
               "  --log FILE            log file (default stderr)\n"
               "  --log-format FORMAT   text or json\n"
               "  --debug               log debug messages\n"
               "  --systemd-cgroup      linux.cgroupsPath is slice:prefix:name (systemd driver form)\n";
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
  o.systemd_cgroup = a.has("systemd-cgroup");
  return o;
}

// While a foreground process runs (`run`, `exec`): the signals we forward
// to it, read from a signalfd; the mask is restored on every path.
class ForwardedSignals {
 public:
  ForwardedSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, &old_);
    fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) {
      ::sigprocmask(SIG_SETMASK, &old_, nullptr);
      throw_errno("signalfd");
    }
  }
  ~ForwardedSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;
  int fd() const { return fd_.get(); }

 private:
  sigset_t old_{};
  Fd fd_;
};

// Reaps children until `pid` exits, proxying the terminal (if any) and
// forwarding signals (window size to the pty); returns its exit status,
// 128+signal when killed.
int wait_in_foreground(pid_t pid, int sigfd, std::unique_ptr<TerminalProxy> tty) {
  int code = 255;
  for (bool done = false; !done;) {
    // Reap first: the process may already be gone.
    int status;
    pid_t r;
    while ((r = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (r == pid) {
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        done = true;
      }
    }
    if (done) break;
    if (tty) {
      if (!tty->pump(-1, sigfd)) tty.reset();
    } else {
      struct pollfd pf {sigfd, POLLIN, 0};
      ::poll(&pf, 1, -1);
    }
    signalfd_siginfo si;
    while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGWINCH && tty) {
        winsize ws{};
        if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(tty->master(), TIOCSWINSZ, &ws);
      } else if (sig != SIGCHLD) {
        ::kill(pid, sig);
      }
    }
  }
  if (tty) tty->drain();
  return code;
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
  ForwardedSignals signals;
  Container c = Container::create(root, id, opts);
  int code = 255;
  try {
    std::unique_ptr<TerminalProxy> tty;
    if (console_mine) {
      console_theirs.reset();
      tty = std::make_unique<TerminalProxy>(receive_fd(console_mine.get()));
    }
    rtlog::debug("run " + id + ": started");
    code = wait_in_foreground(c.pid(), signals.fd(), std::move(tty));
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
  return code;
}

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
  const bool detach = a.has("detach");
  if (detach) {
    if (p.terminal && opts.console_socket.empty())
      throw InvalidArgument("exec: --detach with a terminal needs --console-socket");
    exec_process(c, p, opts);
    return 0;
  }
  // A terminal without --console-socket: keep the pty here and proxy it.
  Fd console_mine, console_theirs;
  if (p.terminal && opts.console_socket.empty()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair");
    console_mine.reset(sv[0]);
    console_theirs.reset(sv[1]);
    opts.console_fd = console_theirs.get();
  }
  ForwardedSignals signals;
  // The process is our own child (exec_process clones it so).
  const pid_t pid = exec_process(c, p, opts);
  std::unique_ptr<TerminalProxy> tty;
  if (console_mine) {
    console_theirs.reset();
    tty = std::make_unique<TerminalProxy>(receive_fd(console_mine.get()));
  }
  return wait_in_foreground(pid, signals.fd(), std::move(tty));
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
  const std::string path = a.get("bundle", ".") + "/config.json";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) throw AlreadyExists("File " + path + " exists. Remove it first");
  auto spec = default_spec();
  if (a.has("rootless")) spec = rootless_spec(std::move(spec), ::geteuid(), ::getegid());
  write_file(path, spec.dump(4) + "\n", O_CREAT | O_EXCL);
  return 0;
}

// "512m", "1G", "100000", "-1": runc's byte values.
int64_t parse_bytes(const std::string& v, const std::string& flag) {
  if (v == "-1") return -1;
  size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  std::string unit = v.substr(i);
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!unit.empty() && unit.back() == 'b' && unit != "b") unit.pop_back();
  int shift = unit.empty() || unit == "b" ? 0 : unit == "k" ? 10 : unit == "m" ? 20 : unit == "g" ? 30 : unit == "t" ? 40 : -1;
  if (i == 0 || shift < 0) throw InvalidArgument("update: --" + flag + ": \"" + v + "\" is not a byte count like 512m");
  try {
    return static_cast<int64_t>(std::stoull(v.substr(0, i)) << shift);
  } catch (const std::exception&) {
    throw InvalidArgument("update: --" + flag + ": \"" + v + "\" is out of range");
  }
}

int64_t parse_i64(const std::string& v, const std::string& flag) {
  try {
    size_t pos;
    long long n = std::stoll(v, &pos);
    if (pos != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw InvalidArgument("update: --" + flag + ": \"" + v + "\" is not an integer");
  }
}

// linux.resources from --resources FILE|- and runc's flags (flags win).
nlohmann::json update_resources(const ParsedArgs& a) {
  nlohmann::json r = nlohmann::json::object();
  if (a.has("resources")) {
    const std::string f = a.get("resources");
    std::string text;
    if (f == "-") {
      std::string line;
      while (std::getline(std::cin, line)) text += line + "\n";
    } else {
      text = read_file(f);
    }
    try {
      r = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument("update: --resources " + f + ": invalid JSON: " + e.what());
    }
    if (!r.is_object()) throw InvalidArgument("update: --resources " + f + ": not a JSON object");
  }
  auto set = [&](const char* flag, const char* group, const char* key, bool bytes, bool is_unsigned) {
    if (!a.has(flag)) return;
    const int64_t v = bytes ? parse_bytes(a.get(flag), flag) : parse_i64(a.get(flag), flag);
    if (is_unsigned && v < 0) throw InvalidArgument(std::string("update: --") + flag + ": must not be negative");
    if (is_unsigned)
      r[group][key] = static_cast<uint64_t>(v);
    else
      r[group][key] = v;
  };
  set("memory", "memory", "limit", true, false);
  set("memory-reservation", "memory", "reservation", true, false);
  set("memory-swap", "memory", "swap", true, false);
  set("kernel-memory", "memory", "kernel", true, false);
  set("kernel-memory-tcp", "memory", "kernelTCP", true, false);
  set("cpu-share", "cpu", "shares", false, true);
  set("cpu-shares", "cpu", "shares", false, true);
  set("cpu-quota", "cpu", "quota", false, false);
  set("cpu-period", "cpu", "period", false, true);
  set("cpu-rt-period", "cpu", "realtimePeriod", false, true);
  set("cpu-rt-runtime", "cpu", "realtimeRuntime", false, false);
  set("pids-limit", "pids", "limit", false, false);
  set("blkio-weight", "blockIO", "weight", false, true);
  if (a.has("cpuset-cpus")) r["cpu"]["cpus"] = a.get("cpuset-cpus");
  if (a.has("cpuset-mems")) r["cpu"]["mems"] = a.get("cpuset-mems");
  return r;
}

// runc's ps: `ps <args>` (default -ef) filtered to the container's pids, or
// the pids as a JSON array.
int cmd_ps(const std::string& root, const ParsedArgs& a) {
  if (a.positional.empty()) throw InvalidArgument("ps: a container ID is required");
  const std::vector<pid_t> pids = Container::load(root, a.positional[0]).pids();
  const std::string format = a.get("format", "table");
  if (format == "json") {
    std::cout << nlohmann::json(pids).dump() << "\n";
    return 0;
  }
  if (format != "table") throw InvalidArgument("ps: unknown --format \"" + format + "\" (table or json)");
  std::string cmd = "ps";
  if (a.positional.size() == 1) cmd += " -ef";
  for (size_t i = 1; i < a.positional.size(); ++i) {
    std::string q = "'";
    for (char ch : a.positional[i]) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    cmd += " " + q + "'";
  }
  std::unique_ptr<FILE, int (*)(FILE*)> ps(::popen(cmd.c_str(), "re"), ::pclose);
  if (!ps) throw_errno("ps: run " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, ps.get())) out.append(buf, n);
  std::stringstream lines(out);
  std::string header, line;
  std::getline(lines, header);
  // The PID column: its index among the header's words.
  std::stringstream hs(header);
  std::string w;
  int col = -1;
  for (int i = 0; hs >> w; ++i)
    if (w == "PID") col = i;
  if (col < 0) throw Internal("ps: no PID column in the output of " + cmd);
  std::cout << header << "\n";
  while (std::getline(lines, line)) {
    std::stringstream ls(line);
    for (int i = 0; ls >> w && i < col; ++i) {
    }
    char* end;
    long pid = std::strtol(w.c_str(), &end, 10);
    if (*end == 0 && std::binary_search(pids.begin(), pids.end(), static_cast<pid_t>(pid))) std::cout << line << "\n";
  }
  return 0;
}

// Go's time.ParseDuration subset runc's --interval takes: "5s", "100ms",
// "1m30s", "1.5s" (units ns, us, µs, ms, s, m, h).
std::chrono::nanoseconds parse_duration(const std::string& text) {
  static const std::vector<std::pair<std::string, double>> units = {
      {"ns", 1}, {"us", 1e3}, {"\u00b5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  size_t i = 0;
  if (text.empty()) throw InvalidArgument("invalid duration \"\"");
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) throw InvalidArgument("invalid duration \"" + text + "\"");
    const double value = std::stod(text.substr(i, j - i));
    double scale = 0;
    size_t len = 0;
    for (const auto& [u, f] : units)
      if (text.compare(j, u.size(), u) == 0 && u.size() > len) {
        scale = f;
        len = u.size();
      }
    if (len == 0) throw InvalidArgument("invalid duration \"" + text + "\": missing or unknown unit");
    total += value * scale;
    i = j + len;
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

// runc's events: with --stats one stats event; without, a stats event every
// --interval (5s) and an oom event per OOM kill the container's memory
// cgroup counts, until the container stops. One JSON object per line.
int cmd_events(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  Container c = Container::load(root, id);
  if (c.state().status == Status::stopped) throw FailedPrecondition("events: container " + id + " is stopped");
  auto emit = [&](const char* type, const nlohmann::json* data) {
    nlohmann::ordered_json j;
    j["type"] = type;
    j["id"] = id;
    if (data) j["data"] = *data;
    std::cout << j.dump() << std::endl;  // a reader follows line by line
  };
  if (a.has("stats")) {
    const nlohmann::json data = c.stats().to_runc_json();
    emit("stats", &data);
    return 0;
  }
  const auto interval = parse_duration(a.get("interval", "5s"));
  if (interval <= std::chrono::nanoseconds::zero()) throw InvalidArgument("events: --interval must be positive");
  // OOMs are noticed by polling the cgroup's counter, often enough for both.
  const auto tick = std::min<std::chrono::nanoseconds>(interval, std::chrono::milliseconds(100));
  uint64_t ooms = c.stats().memory.oom_events;
  auto next_stats = std::chrono::steady_clock::now() + interval;
  for (;;) {
    std::this_thread::sleep_for(tick);
    std::optional<Container> now;
    try {
      now.emplace(Container::load(root, id));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::not_found) return 0;  // deleted meanwhile
      throw;
    }
    const bool stopped = now->state().status == Status::stopped;
    cgroups::Stats st;
    try {
      st = now->stats();
    } catch (const Error&) {
      if (stopped) return 0;
      continue;  // the cgroup is going away with the container
    }
    // The OOM that ended the container is reported before we stop too.
    for (; ooms < st.memory.oom_events; ++ooms) emit("oom", nullptr);
    if (stopped) return 0;
    if (std::chrono::steady_clock::now() >= next_stats) {
      const nlohmann::json data = st.to_runc_json();
      emit("stats", &data);
      next_stats += interval;
    }
  }
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
  if (cmd == "pause") {
    Container::load(root, need_id(a)).pause();
    return 0;
  }
  if (cmd == "resume") {
    Container::load(root, need_id(a)).resume();
    return 0;
  }
  if (cmd == "update") {
    const std::string id = need_id(a);
    Container::load(root, id).update(update_resources(a));
    return 0;
  }
  if (cmd == "ps") return cmd_ps(root, a);
  if (cmd == "events") return cmd_events(root, a);
  if (cmd == "run") return cmd_run(root, a);
  if (cmd == "exec") return cmd_exec(root, a);
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
        // exec <id> cmd args…: what follows the ID is the command's (as Go's
        // flag parsing stops at the first argument).
        if (out.command == "exec" || out.command == "ps") flags_done = true;
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
