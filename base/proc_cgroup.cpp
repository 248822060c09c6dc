#include "base/proc_cgroup.h"

#include "base/file.h"
#include "base/strings.h"

namespace crius {

std::vector<ProcCgroup> parse_proc_cgroup(const std::string& text) {
  std::vector<ProcCgroup> out;
  for (const auto& line : split(text, '\n')) {
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    ProcCgroup c;
    c.hierarchy_id = line.substr(0, a);
    c.controller_list = line.substr(a + 1, b - a - 1);
    if (!c.controller_list.empty())
      for (auto& ctrl : split(c.controller_list, ',')) c.controllers.push_back(std::move(ctrl));
    c.path = line.substr(b + 1);
    c.line = line;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ProcCgroup> read_proc_cgroup(const std::string& pid) {
  return parse_proc_cgroup(read_file("/proc/" + pid + "/cgroup"));
}

}  // namespace crius
