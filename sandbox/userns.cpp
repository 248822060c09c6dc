#include "sandbox/userns.h"

#include <cstdint>

#include "base/error.h"

namespace crius::sandbox {
namespace {

bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; }

void validate_ranges(const std::vector<IdRange>& ranges, const std::string& list) {
  const std::string field = std::string(kUsernsField) + "." + list;
  if (ranges.empty()) throw InvalidArgument(field + ": mode POD needs one mapping, none was given");
  for (size_t i = 0; i < ranges.size(); ++i) {
    const IdRange& r = ranges[i];
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (r.length == 0) throw InvalidArgument(at + ".length: must not be 0");
    const uint64_t end_host = uint64_t{r.host_id} + r.length, end_ctr = uint64_t{r.container_id} + r.length;
    if (end_host > (uint64_t{1} << 32) || end_ctr > (uint64_t{1} << 32))
      throw InvalidArgument(at + ".length: " + std::to_string(r.length) + " from host_id " +
                            std::to_string(r.host_id) + " / container_id " + std::to_string(r.container_id) +
                            " goes past the 32-bit ID space");
    if (r.host_id == 0)
      throw InvalidArgument(at + ".host_id: the range " + std::to_string(r.host_id) + "+" + std::to_string(r.length) +
                            " includes host ID 0 (the node's root)");
    for (size_t j = 0; j < i; ++j) {
      const IdRange& o = ranges[j];
      if (overlap(r.host_id, r.length, o.host_id, o.length))
        throw InvalidArgument(at + ".host_id: the range " + std::to_string(r.host_id) + "+" +
                              std::to_string(r.length) + " overlaps " + list + "[" + std::to_string(j) + "]");
      if (overlap(r.container_id, r.length, o.container_id, o.length))
        throw InvalidArgument(at + ".container_id: the range " + std::to_string(r.container_id) + "+" +
                              std::to_string(r.length) + " overlaps " + list + "[" + std::to_string(j) + "]");
    }
  }
  if (ranges.size() > 1)
    throw InvalidArgument(field + ": " + std::to_string(ranges.size()) +
                          " mappings given; crius takes exactly one range (as kubelet sends)");
  if (ranges[0].container_id != 0)
    throw InvalidArgument(field + "[0].container_id: " + std::to_string(ranges[0].container_id) +
                          "; the mapping must map container ID 0 (the pod's root)");
}

}  // namespace

void validate_userns(const PodSpec& s) {
  const UsernsSpec& u = s.userns;
  if (u.mode == NsMode::node) return;
  if (u.mode != NsMode::pod)
    throw InvalidArgument(std::string(kUsernsField) + ".mode " + ns_mode_name(u.mode) +
                          " is not supported for a pod (POD or NODE)");
  validate_ranges(u.uids, "uids");
  validate_ranges(u.gids, "gids");
  const auto node_ns = [&](const char* which) {
    throw InvalidArgument(std::string(kUsernsField) + ".mode POD: the pod's namespace_options." + which +
                          " is NODE; a pod with its own user namespace has its own " + which + " namespace");
  };
  if (s.network == NsMode::node) node_ns("network");
  if (s.ipc == NsMode::node) node_ns("ipc");
  if (s.pid == NsMode::node) node_ns("pid");
}

std::string id_map_text(const std::vector<IdRange>& ranges) {
  std::string out;
  for (const auto& r : ranges)
    out += std::to_string(r.container_id) + " " + std::to_string(r.host_id) + " " + std::to_string(r.length) + "\n";
  return out;
}

}  // namespace crius::sandbox
