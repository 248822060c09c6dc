// proc_usage: what it refuses to count (counting a container's processes
// needs one in a mount namespace of its own, which needs root: the Rootless
// e2e test reads a real container's stats); CpuCarry: readings that lose an
// ended exec's time never go back.
#include "container/proc_usage.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

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

// What the carry makes of a reading: {user, system, total}.
std::vector<uint64_t> carried(CpuCarry& carry, uint64_t user, uint64_t system) {
  auto r = reading(user, system);
  carry.apply(r);
  return {r.user_ns, r.system_ns, r.total_ns};
}

TEST(CpuCarry, TimeLostWithAnEndedExecIsAddedBackFromThenOn) {
  CpuCarry carry;
  EXPECT_EQ(carried(carry, 100, 50), (std::vector<uint64_t>{100, 50, 150}));
  // An exec that had used 20 user and 5 system ends: the sum drops.
  EXPECT_EQ(carried(carry, 80, 45), (std::vector<uint64_t>{100, 50, 150}));
  // The container goes on working: the counters move with it.
  EXPECT_EQ(carried(carry, 90, 47), (std::vector<uint64_t>{110, 52, 162}));
  // A second loss adds to the first.
  EXPECT_EQ(carried(carry, 85, 47), (std::vector<uint64_t>{110, 52, 162}));
  EXPECT_EQ(carried(carry, 86, 48), (std::vector<uint64_t>{111, 53, 164}));
}

}  // namespace
}  // namespace crius::container
