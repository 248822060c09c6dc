// What a failed system call becomes for the client: the gRPC code its errno
// maps to, with the text naming what failed.
#include <gtest/gtest.h>

#include <cerrno>

#include "base/error.h"

namespace crius {
namespace {

TEST(ErrnoError, FullDiskIsResourceExhaustedNamingWhatFailed) {
  for (int err : {ENOSPC, EDQUOT}) {
    const Error e = errno_error("writing /var/lib/crius/x", err);
    EXPECT_EQ(e.code(), ErrorCode::resource_exhausted) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("writing /var/lib/crius/x: ", 0), 0u) << e.what();
    EXPECT_EQ(write_error("writing /var/lib/crius/x", err).code(), ErrorCode::resource_exhausted);
  }
  EXPECT_EQ(errno_error("x", ENOENT).code(), ErrorCode::not_found);
  EXPECT_EQ(errno_error("x", EIO).code(), ErrorCode::internal);
}

// The runtime's own files: a missing directory is its problem, not the client's.
TEST(WriteError, InternalUnlessTheDiskIsFull) {
  for (int err : {ENOENT, EACCES, EIO, EEXIST}) EXPECT_EQ(write_error("x", err).code(), ErrorCode::internal) << err;
  errno = ENOSPC;
  EXPECT_EQ(write_error("x").code(), ErrorCode::resource_exhausted) << "errno when none is given";
}

}  // namespace
}  // namespace crius
