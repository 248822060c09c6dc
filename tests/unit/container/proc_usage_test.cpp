// proc_usage: a container's CPU and memory from /proc, by its init's mount
// namespace. The test's own process stands in for an init: everything in
// its mount namespace is counted, the test among them.
#include "container/proc_usage.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace crius::container {
namespace {

TEST(ProcUsage, CountsTheProcessesOfTheInitsMountNamespace) {
  // Some CPU of our own first, so that there is time to count.
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < 200'000'000 && x < ~0ULL; ++i) x = x + i;
  struct rusage own {};
  ::getrusage(RUSAGE_SELF, &own);
  const uint64_t own_ns = (static_cast<uint64_t>(own.ru_utime.tv_sec) + static_cast<uint64_t>(own.ru_stime.tv_sec)) *
                          1'000'000'000ULL;
  const auto s = proc_usage(::getpid());
  ASSERT_TRUE(s);
  EXPECT_GE(s->pids.current, 1u);
  EXPECT_GE(s->cpu.total_ns, own_ns);
  EXPECT_EQ(s->cpu.total_ns, s->cpu.user_ns + s->cpu.system_ns);
  EXPECT_GT(s->memory.working_set, 0u);
  EXPECT_EQ(s->memory.usage, s->memory.working_set);
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
