// /proc/<pid>/cgroup, parsed once for every folder (see cgroups(7)):
//   hierarchy-ID:controller-list:cgroup-path   ("0::/…" is the v2 line)
#pragma once

#include <string>
#include <vector>

namespace crius {

struct ProcCgroup {
  std::string hierarchy_id;
  std::vector<std::string> controllers;  // empty for v2; a named v1 hierarchy has "name=…"
  std::string controller_list;           // the field as written: "cpu,cpuacct", "name=systemd", ""
  std::string path;
  std::string line;                      // the whole line, to compare two processes' entries
};

std::vector<ProcCgroup> parse_proc_cgroup(const std::string& text);
// "self" or a pid; a process that is gone throws NotFound.
std::vector<ProcCgroup> read_proc_cgroup(const std::string& pid = "self");

}  // namespace crius
