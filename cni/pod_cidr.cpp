#include "cni/pod_cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "cni/network.h"

namespace crius::cni {
namespace {

[[noreturn]] void refuse(const std::string& value, const std::string& why) {
  throw InvalidArgument(std::string(kPodCidrField) + " \"" + value + "\": " + why);
}

struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  std::string text;
};

// One "<address>/<prefix>" entry, checked and in canonical form.
Cidr parse_one(const std::string& value, const std::string& entry) {
  const size_t slash = entry.find('/');
  if (entry.empty()) refuse(value, "an empty entry (expected a CIDR such as 10.244.0.0/24)");
  if (slash == std::string::npos) refuse(value, "\"" + entry + "\" has no prefix length (expected a CIDR such as 10.244.0.0/24)");
  const std::string address = entry.substr(0, slash), prefix = entry.substr(slash + 1);

  std::array<unsigned char, 16> bytes{};
  Cidr out;
  size_t size = 0;
  if (::inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
    out.family = AF_INET;
    size = 4;
  } else if (::inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
    out.family = AF_INET6;
    size = 16;
  } else {
    refuse(value, "\"" + address + "\" is not an IPv4 or IPv6 address");
  }

  unsigned bits = 0;
  const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
  if (prefix.empty() || prefix.size() > 3 || (prefix.size() > 1 && prefix[0] == '0') || ec != std::errc() ||
      end != prefix.data() + prefix.size() || bits > size * 8)
    refuse(value, "\"" + prefix + "\" is not a prefix length for " + (size == 4 ? "IPv4 (0-32)" : "IPv6 (0-128)"));

  // The network address itself: every bit past the prefix is zero.
  for (size_t i = 0; i < size; ++i) {
    const unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
    const auto mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
    if ((bytes[i] & ~mask & 0xff) != 0)
      refuse(value, "\"" + entry + "\" has host bits set (a CIDR names a network address)");
  }
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(out.family, bytes.data(), text, sizeof text);
  out.text = std::string(text) + "/" + std::to_string(bits);
  return out;
}

}  // namespace

std::vector<std::string> parse_pod_cidrs(const std::string& value) {
  if (trim(value).empty()) return {};
  const auto entries = split(value, ',');
  if (entries.size() > 2)
    refuse(value, "at most two CIDRs, an IPv4 and an IPv6 one for a dual-stack node");
  std::vector<Cidr> cidrs;
  for (const auto& e : entries) cidrs.push_back(parse_one(value, trim(e)));
  if (cidrs.size() == 2 && cidrs[0].family == cidrs[1].family)
    refuse(value, "two CIDRs of the same address family (dual stack is one IPv4 and one IPv6 CIDR)");
  std::vector<std::string> out;
  for (auto& c : cidrs) out.push_back(std::move(c.text));
  return out;
}

nlohmann::json ip_ranges(const std::vector<std::string>& cidrs) {
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& c : cidrs) {
    nlohmann::json range = nlohmann::json::object();
    range["subnet"] = c;
    sets.push_back(nlohmann::json::array({range}));
  }
  return sets;
}

// The pod CIDRs as the node last had them: one line, the CIDRs joined
// with a comma (the form kubelet sends).
namespace {

std::string pod_cidr_file(const std::string& cache_dir) { return cache_dir + "/pod-cidr"; }

std::string joined(const std::vector<std::string>& cidrs) {
  std::string out;
  for (const auto& c : cidrs) out += (out.empty() ? "" : ",") + c;
  return out;
}

}  // namespace

void Cni::load_pod_cidrs() {
  const std::string path = pod_cidr_file(cache_dir_);
  const auto text = read_file_if_exists(path);
  if (!text) return;
  try {
    pod_cidrs_ = parse_pod_cidrs(trim(*text));
  } catch (const Error& e) {
    log::warn("ignoring an unreadable saved pod CIDR; plugins get none until kubelet sends it again",
              {{"path", path}, {"error", e.what()}});
  }
}

bool Cni::set_pod_cidrs(const std::vector<std::string>& cidrs) {
  std::lock_guard lock(cidr_mu_);
  if (cidrs == pod_cidrs_) return false;
  // On disk first: what plugins are given is never lost by a restart.
  write_file_atomic(pod_cidr_file(cache_dir_), joined(cidrs) + "\n");
  log::info("pod CIDR changed", {{"from", joined(pod_cidrs_)}, {"to", joined(cidrs)}});
  pod_cidrs_ = cidrs;
  return true;
}

std::vector<std::string> Cni::pod_cidrs() const {
  std::lock_guard lock(cidr_mu_);
  return pod_cidrs_;
}

}  // namespace crius::cni
