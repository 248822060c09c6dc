#include "oci/runtime/signals.h"

#include <signal.h>

#include <cctype>
#include <charconv>
#include <string>
#include <utility>

#include "base/error.h"

namespace crius::oci::runtime {
namespace {

// Every name glibc knows, the aliases (CLD, IOT, POLL) included.
constexpr std::pair<std::string_view, int> kNames[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},
    {"CONT", SIGCONT}, {"FPE", SIGFPE},   {"HUP", SIGHUP},       {"ILL", SIGILL},     {"INT", SIGINT},
    {"IO", SIGIO},     {"IOT", SIGIOT},   {"KILL", SIGKILL},     {"PIPE", SIGPIPE},   {"POLL", SIGPOLL},
    {"PROF", SIGPROF}, {"PWR", SIGPWR},   {"QUIT", SIGQUIT},     {"SEGV", SIGSEGV},   {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},   {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG},       {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
    {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

// The whole of s as a decimal number without a sign, or false.
bool decimal(std::string_view s, int& out) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

int parse_signal(std::string_view text) {
  const std::string value(text);
  int n = 0;
  if (decimal(text, n)) {
    if (n < 1 || n > SIGRTMAX) throw InvalidArgument("signal " + value + " is out of range");
    return n;
  }
  std::string up;
  for (char c : text) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = up;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& [k, v] : kNames)
    if (name == k) return v;
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n.
  if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
    const int base = name.starts_with("RTMIN") ? SIGRTMIN : SIGRTMAX;
    const std::string_view offset = name.substr(5);
    int off = 0;
    const bool ok = offset.empty() || ((offset[0] == '+' || offset[0] == '-') && decimal(offset.substr(1), off));
    if (ok) {
      const int sig = offset.starts_with('-') ? base - off : base + off;
      if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
    }
  }
  throw InvalidArgument("unknown signal \"" + value + "\"");
}

}  // namespace crius::oci::runtime
