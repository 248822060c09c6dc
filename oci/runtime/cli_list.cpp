// list [--format table|json] [--quiet]: every container under --root.
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {

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

}  // namespace crius::oci::runtime::cli
