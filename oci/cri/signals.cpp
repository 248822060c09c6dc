// Signal names to numbers (kept apart from the CRI proto, whose Signal enum
// values collide with <csignal>'s macros).
// The proto header first: <csignal>'s macros would break its Signal enum.
#include "oci/cri/internal.h"

#include <csignal>

#include <cctype>
#include <charconv>
#include <utility>

#include "conf/error.h"

namespace crius::oci::cri::detail {

int signal_number(const std::string& name, const std::string& what) {
  static const std::pair<const char*, int> table[] = {
      {"ABRT", SIGABRT}, {"ALRM", SIGALRM},   {"BUS", SIGBUS},     {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},
      {"CONT", SIGCONT}, {"FPE", SIGFPE},     {"HUP", SIGHUP},     {"ILL", SIGILL},     {"INT", SIGINT},
      {"IO", SIGIO},     {"IOT", SIGIOT},     {"KILL", SIGKILL},   {"PIPE", SIGPIPE},   {"POLL", SIGPOLL},
      {"PROF", SIGPROF}, {"PWR", SIGPWR},     {"QUIT", SIGQUIT},   {"SEGV", SIGSEGV},   {"STKFLT", SIGSTKFLT},
      {"STOP", SIGSTOP}, {"SYS", SIGSYS},     {"TERM", SIGTERM},   {"TRAP", SIGTRAP},   {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
      {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
  };
  int n = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (!name.empty() && ec == std::errc() && p == name.data() + name.size()) {
    if (n < 1 || n > SIGRTMAX) throw InvalidArgument(what + ": signal " + name + " is out of range");
    return n;
  }
  std::string u;
  for (char c : name) u.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (u.rfind("SIG", 0) == 0) u = u.substr(3);
  for (const auto& [k, v] : table)
    if (u == k) return v;
  // SIGRTMIN+n / SIGRTMAX-n
  if (u.rfind("RTMIN+", 0) == 0 || u.rfind("RTMAX-", 0) == 0) {
    int off = 0;
    auto s = u.substr(6);
    auto [q, e2] = std::from_chars(s.data(), s.data() + s.size(), off);
    if (e2 == std::errc() && q == s.data() + s.size()) {
      int sig = u[2] == 'M' && u[4] == 'N' ? SIGRTMIN + off : SIGRTMAX - off;
      if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
    }
  }
  throw InvalidArgument(what + ": unknown signal \"" + name + "\"");
}

}  // namespace crius::oci::cri::detail
