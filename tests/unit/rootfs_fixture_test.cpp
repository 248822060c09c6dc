// The busybox rootfs fixture that integration and e2e tests build on.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "tests/fixtures/rootfs/rootfs.h"

namespace crius::fixtures {
namespace {
namespace fs = std::filesystem;

TEST(RootfsFixture, HasBusyboxAppletsAndUsers) {
  std::string tmpl = (fs::temp_directory_path() / "crius-rootfs-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  make_busybox_rootfs(tmpl);
  EXPECT_TRUE(fs::is_regular_file(tmpl + "/bin/busybox"));
  EXPECT_EQ(fs::read_symlink(tmpl + "/bin/sh"), "busybox");
  EXPECT_TRUE(fs::is_symlink(tmpl + "/bin/sleep"));
  EXPECT_TRUE(fs::is_directory(tmpl + "/proc"));
  EXPECT_EQ(fs::status(tmpl + "/tmp").permissions() & fs::perms::sticky_bit, fs::perms::sticky_bit);
  EXPECT_GT(fs::file_size(tmpl + "/etc/passwd"), 0u);
  // A second call over an existing tree is fine (tests reuse directories).
  EXPECT_NO_THROW(make_busybox_rootfs(tmpl));
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace crius::fixtures
