// Image references as the distribution project defines them:
//   [domain[:port]/]path[:tag][@algorithm:hex]
// normalized the way docker and containerd print them
// ("busybox" -> "docker.io/library/busybox:latest").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crius::image {

struct Reference {
  std::string domain;  // "docker.io", "registry.local:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // empty when only a digest was given
  std::string digest;  // "sha256:<64 hex>" or empty

  std::string name() const { return domain + "/" + path; }  // docker.io/library/busybox
  std::string tagged() const { return name() + ":" + tag; }   // needs a tag
  std::string digested(const std::string& d) const { return name() + "@" + d; }
  // The full normalized form: name[:tag][@digest].
  std::string str() const;

  bool operator==(const Reference&) const = default;
};

// True when `s` is "sha256:" and 64 lowercase hex digits (the only algorithm
// registries and crius accept).
bool is_sha256_digest(std::string_view s);

// Whether the first path component of `ref` names a registry host.
bool has_domain(std::string_view ref);

// Parses and normalizes one reference; a name without a domain gets
// `default_domain` (docker.io adds "library/" to one-component names), a
// reference without tag or digest gets ":latest". Throws InvalidArgument
// naming the reference and what is wrong with it.
Reference parse_reference(std::string_view ref, std::string_view default_domain = "docker.io");

// The references to try, in order, for what a user typed: itself when it
// names its registry, else one per `short_name_search` registry.
std::vector<Reference> resolve_candidates(std::string_view ref, const std::vector<std::string>& short_name_search);

}  // namespace crius::image
