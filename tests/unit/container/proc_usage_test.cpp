// proc_usage: what it refuses to count. Counting a container's processes
// needs one in a mount namespace of its own, which needs root: the Rootless
// e2e test reads a real container's stats.
#include "container/proc_usage.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace crius::container {
namespace {

TEST(ProcUsage, NothingForAnInitInTheCallersOwnMountNamespace) {
  // Its pid reused by a process of ours, or a spec without a mount
  // namespace: counting would take in everything the daemon can see.
  EXPECT_FALSE(proc_usage(::getpid()));
}

TEST(ProcUsage, NothingForAGoneInit) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(proc_usage(child));
  EXPECT_FALSE(proc_usage(0));
}

}  // namespace
}  // namespace crius::container
