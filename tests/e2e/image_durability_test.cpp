// A pulled image must survive a machine crash as soon as PullImage has
// answered: its record is fsynced, so the files of the layers it names must
// be on the disk too. The kernel tells, per file, how many of its cached
// pages are still dirty or under write-back (cachestat, Linux 6.5).
#include "tests/e2e/image_helpers.h"
//
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "base/fd.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using namespace image_e2e;

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

// The kernel's struct cachestat_range and struct cachestat (linux/mman.h).
struct CachestatRange {
  uint64_t off = 0;
  uint64_t len = 0;  // 0: to the end of the file
};
struct Cachestat {
  uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

// Pages of the file not yet on the disk, or -1 with errno.
long unwritten_pages(const fs::path& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return -1;
  CachestatRange range;
  Cachestat cs{};
  if (::syscall(SYS_cachestat, fd.get(), &range, &cs, 0) != 0) return -1;
  return static_cast<long>(cs.nr_dirty + cs.nr_writeback);
}

TEST(ImageDurability, LayerFilesAreOnTheDiskWhenThePullAnswers) {
  {
    TempDir probe;
    write_file(probe / "probe", "x");
    if (unwritten_pages(probe / "probe") < 0 && errno == ENOSYS) GTEST_SKIP() << "the kernel has no cachestat (Linux 6.5+)";
  }
  fixtures::Registry reg;
  auto img = fixtures::push_image(reg, "test/durable", "v1", {busybox()});
  Daemon d;
  struct statfs fs_of_root {};
  ASSERT_EQ(::statfs(d.dir().path().c_str(), &fs_of_root), 0);
  if (fs_of_root.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs pages are never dirty for cachestat: nothing to tell";
  ASSERT_TRUE(pull(d, reg.host() + "/test/durable:v1").status.ok());
  ASSERT_EQ(count_layers(d), 1u);
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(d.dir() / "root/images/layers")) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    ++files;
    const long left = unwritten_pages(e.path());
    ASSERT_GE(left, 0) << e.path() << ": " << std::strerror(errno);
    EXPECT_EQ(left, 0) << e.path() << " still has pages that are not on the disk";
  }
  // The busybox binary, at least, and the layer's diff_id.
  EXPECT_GE(files, 2u);
}

}  // namespace
}  // namespace crius::test
