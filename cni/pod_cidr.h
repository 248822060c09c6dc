// The node's pod CIDRs, as kubelet hands them over in UpdateRuntimeConfig
// (runtime_config.network_config.pod_cidr: one CIDR, or for a dual-stack
// node an IPv4 and an IPv6 CIDR joined with a comma, the way kubelet joins
// node.spec.podCIDRs), checked and written in canonical form; and the
// `ipRanges` runtimeConfig of the CNI conventions that they become for a
// plugin declaring that capability (host-local then allocates from them).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::cni {

// The CRI field the value comes from, named in every refusal.
inline constexpr const char* kPodCidrField = "runtime_config.network_config.pod_cidr";

// "10.244.1.0/24,fd00:10:244:1::/64" → {"10.244.1.0/24", "fd00:10:244:1::/64"}.
// Each entry is an IPv4 or IPv6 network address (no host bits set) with a
// prefix length; at most one per address family; spaces around an entry are
// ignored; IPv6 comes out in its canonical text (RFC 5952). "" gives {}.
// Throws crius::Error (InvalidArgument) naming kPodCidrField and the entry.
std::vector<std::string> parse_pod_cidrs(const std::string& value);

// The CNI `ipRanges` runtimeConfig: one range set per CIDR, each a single
// range [{"subnet": "<cidr>"}].
nlohmann::json ip_ranges(const std::vector<std::string>& cidrs);

}  // namespace crius::cni
