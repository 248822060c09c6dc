// ps: the container's processes, as ps(1) lines or as a JSON array of pids.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/strings.h"
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

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
  const auto lines = split(out, '\n');
  const std::string& header = lines.front();
  // The PID column: its index among the header's words.
  const auto head = words(header);
  size_t col = head.size();
  for (size_t i = 0; i < head.size(); ++i)
    if (head[i] == "PID") col = i;
  if (col == head.size()) throw Internal("ps: no PID column in the output of " + cmd);
  std::cout << header << "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto fields = words(lines[i]);
    if (fields.size() <= col) continue;
    char* end;
    const long pid = std::strtol(fields[col].c_str(), &end, 10);
    if (*end == 0 && std::binary_search(pids.begin(), pids.end(), static_cast<pid_t>(pid)))
      std::cout << lines[i] << "\n";
  }
  return 0;
}

}  // namespace crius::oci::runtime::cli
