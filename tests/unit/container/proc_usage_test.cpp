// proc_usage: what it refuses to count (counting a container's processes
// needs one in a mount namespace of its own, which needs root: the Rootless
// e2e test reads a real container's stats); CpuCarry: readings that lose an
// ended exec's time never go back.
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

oci::cgroups::Stats::Cpu reading(uint64_t user, uint64_t system) {
  oci::cgroups::Stats::Cpu c;
  c.user_ns = user;
  c.system_ns = system;
  c.total_ns = user + system;
  return c;
}

TEST(CpuCarry, TimeLostWithAnEndedExecIsAddedBackFromThenOn) {
  CpuCarry carry;
  auto a = reading(100, 50);
  carry.apply(a);
  EXPECT_EQ(a.user_ns, 100u);
  EXPECT_EQ(a.total_ns, 150u);
  // An exec that had used 30 user and 10 system ends: the sum drops.
  auto b = reading(80, 45);
  carry.apply(b);
  EXPECT_EQ(b.user_ns, 100u);
  EXPECT_EQ(b.system_ns, 50u);
  EXPECT_EQ(b.total_ns, 150u);
  // The container goes on working: the counters move with it.
  auto c = reading(90, 47);
  carry.apply(c);
  EXPECT_EQ(c.user_ns, 110u);
  EXPECT_EQ(c.system_ns, 52u);
  EXPECT_EQ(c.total_ns, 162u);
  // A second loss adds to the first.
  auto d = reading(85, 47);
  carry.apply(d);
  EXPECT_EQ(d.user_ns, 110u);
  EXPECT_EQ(d.total_ns, 162u);
}

}  // namespace
}  // namespace crius::container
