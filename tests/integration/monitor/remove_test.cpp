// remove of a running container whose pid namespace still has processes
// exec'd into it: the monitor reaps them while it waits for the init.
#include <dirent.h>

#include <fstream>
#include <future>
#include <thread>

#include "tests/integration/monitor/fixture.h"

namespace crius::testing::monitor {

namespace {

// Zombie children of `parent`, from /proc/<pid>/stat.
std::vector<pid_t> zombies_of(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    // pid (comm) state ppid …; comm may hold spaces and parentheses.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent && state == 'Z')
      out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

}  // namespace

CRIUS_MONITOR_SUITE(MonitorRemove);

TEST_P(MonitorRemove, ForceRemoveWithALiveExecNeitherStallsNorLeavesZombies) {
  auto b = bundle("b", "sleep 1000");
  launch("r", *b, tmp() / "logs" / "r.log");
  auto exec = std::async(std::launch::async, [&] {
    return client().exec_sync("r", process({"sh", "-c", "touch /execing; exec sleep 100"}), 60s, 1024);
  });
  const auto marker = b->rootfs() / "execing";
  for (int i = 0; i < 1000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(marker)) << "the exec'd process did not start";

  // Before the fix the builtin handler's remove waited for an init that
  // waited for its namespace's zombie: DeadlineExceeded after 10 s.
  EXPECT_NO_THROW(client().remove("r"));
  ASSERT_EQ(exec.wait_for(30s), std::future_status::ready) << "exec_sync not answered after the remove";
  auto r = exec.get();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(client().list().empty());

  std::vector<pid_t> zombies;
  for (int i = 0; i < 500; ++i) {
    zombies = zombies_of(client().pid());
    if (zombies.empty()) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(zombies.empty()) << "zombie children of the monitor: " << zombies.size();
  // The monitor still serves.
  launch("r2", *b, tmp() / "logs" / "r2.log");
  EXPECT_EQ(client().status("r2").status, "running");
}

}  // namespace crius::testing::monitor
