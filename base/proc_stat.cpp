#include "base/proc_stat.h"

#include <cstdlib>
#include <exception>
#include <string>

#include "base/file.h"

namespace crius {

namespace {
// The fields after the command name, which is in parentheses and may hold
// spaces; "" when the process is gone.
std::string stat_tail(pid_t pid) {
  const std::string s = read_file_or_empty("/proc/" + std::to_string(pid) + "/stat");
  const auto close = s.rfind(')');
  if (close == std::string::npos || close + 2 >= s.size()) return {};
  return s.substr(close + 2);
}
}  // namespace

char process_state(pid_t pid) {
  const std::string t = stat_tail(pid);
  return t.empty() ? 0 : t[0];
}

bool process_running(pid_t pid) {
  const char st = pid > 0 ? process_state(pid) : 0;
  return st != 0 && st != 'Z';
}

pid_t running_pid_in_file(const std::string& pid_file, std::string_view comm) {
  const auto text = read_file_if_exists(pid_file);
  if (!text) return -1;
  pid_t pid = -1;
  try {
    pid = static_cast<pid_t>(std::stol(*text));
  } catch (const std::exception&) {
    return -1;
  }
  const auto name = read_file_if_exists("/proc/" + std::to_string(pid) + "/comm");
  return process_running(pid) && name && name->starts_with(comm) ? pid : -1;
}

uint64_t process_start_time(pid_t pid) { return process_stat_field(pid, 22); }

uint64_t process_stat_field(pid_t pid, int field) {
  const std::string t = stat_tail(pid);
  if (t.empty()) return 0;
  // The tail starts at field 3 (state).
  size_t pos = 0;
  for (int f = 3; f < field; ++f) {
    pos = t.find(' ', pos);
    if (pos == std::string::npos) return 0;
    ++pos;
  }
  return std::strtoull(t.c_str() + pos, nullptr, 10);
}

}  // namespace crius
