#include "image/disk_usage.h"

#include <ftw.h>
#include <sys/stat.h>

#include <set>
#include <utility>

namespace crius::image {
namespace {

// nftw's callback takes no user pointer: the walk's totals are per thread.
thread_local Usage* tl_usage;
thread_local std::set<std::pair<dev_t, ino_t>>* tl_seen;

int count_entry(const char*, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_NS) return 0;  // stat failed: *st holds nothing
  if (tl_seen->insert({st->st_dev, st->st_ino}).second) {
    tl_usage->bytes += static_cast<uint64_t>(st->st_blocks) * 512;
    tl_usage->inodes += 1;
  }
  return 0;
}

}  // namespace

Usage disk_usage(const std::string& path) {
  Usage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  tl_usage = &u;
  tl_seen = &seen;
  // Its result is not checked: what cannot be read is simply not counted.
  ::nftw(path.c_str(), count_entry, 64, FTW_PHYS | FTW_MOUNT);
  return u;
}

}  // namespace crius::image
