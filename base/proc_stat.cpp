#include "base/proc_stat.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "base/dir.h"
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
  const auto v = process_stat_fields(pid, field, field);
  return v.empty() ? 0 : v.front();
}

std::vector<uint64_t> process_stat_fields(pid_t pid, int first, int last) {
  const std::string t = stat_tail(pid);
  if (t.empty()) return {};
  // The tail starts at field 3 (state).
  std::vector<uint64_t> out;
  size_t pos = 0;
  for (int f = 3; f <= last; ++f) {
    if (f >= first) out.push_back(std::strtoull(t.c_str() + pos, nullptr, 10));
    if (f == last) break;
    pos = t.find(' ', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  return out;
}

std::string namespace_link(pid_t pid, const char* ns) {
  char buf[128];
  const std::string p = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::vector<pid_t> processes_in_namespace(pid_t pid, const char* ns) {
  std::vector<pid_t> out{pid};
  const std::string mine = namespace_link(pid, ns);
  if (mine.empty()) return out;
  for (const auto& name : list_dir("/proc")) {
    char* end;
    const long other = std::strtol(name.c_str(), &end, 10);
    if (*end || other <= 0 || other == pid) continue;
    if (namespace_link(static_cast<pid_t>(other), ns) == mine) out.push_back(static_cast<pid_t>(other));
  }
  return out;
}

}  // namespace crius
