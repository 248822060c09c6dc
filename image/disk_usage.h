// How much disk a directory tree takes: the image store's ImageFsInfo
// figure, and a container's writable layer.
#pragma once

#include <cstdint>
#include <string>

namespace crius::image {

struct Usage {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
};
// Disk blocks (st_blocks * 512) and inodes under `path`, each inode counted
// once (hard links), not crossing into other filesystems. What cannot be
// read is left out (a missing path counts nothing).
Usage disk_usage(const std::string& path);

}  // namespace crius::image
