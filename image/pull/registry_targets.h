// Where a repository is fetched from: the mirrors and location that
// image.registries gives the longest matching prefix of its name, or the
// registry the name itself points at.
#pragma once

#include <string>
#include <vector>

#include "conf/config.h"
#include "image/reference.h"

namespace crius::image {

// One mirror, or the origin.
struct Target {
  std::string host;  // host[:port]
  std::string repo;  // repository path on that host
  bool insecure = false;
  bool mirror = false;
  std::string url_base() const;  // without scheme: host/v2/repo
};

// The targets for a reference, mirrors first, then the origin, following the
// longest matching image.registries prefix.
std::vector<Target> targets_for(const Reference& ref, const conf::ImageConfig& config);

}  // namespace crius::image
