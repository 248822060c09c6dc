// Joining cgroups without the kernel's global lock (oci/cgroups/join.h),
// against the real kernel: Enter moves the calling thread alone into the v1
// directories and back, and clone_into makes a child in the v2 one, with a
// new cgroup namespace rooted there, and clone_vm_into runs a function on a
// stack of its own there. A whole-process move (cgroup.procs)
// fails these: it takes the test's other thread along.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "oci/cgroups/cgroup.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/join.h"
#include "tests/integration/runtime/harness.h"

namespace crius::testing::rt {
namespace {

namespace cg = oci::cgroups;

// "memory" → "/a/b", "" → the v2 path, from a /proc/.../cgroup file.
std::map<std::string, std::string> cgroups_of(const std::string& proc_file) {
  return cg::parse_proc_cgroup(read_file(proc_file));
}

class CgroupJoin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto& h = cg::Hierarchy::host();
    const auto own = cg::proc_cgroup_paths();
    name_ = "crius-jointest-" + std::to_string(::getpid());
    auto make = [&](const std::string& mount, const std::string& key) {
      auto it = own.find(key);
      const std::string rel = (it == own.end() || it->second == "/" ? "" : it->second) + "/" + name_;
      const std::string dir = mount + rel;
      if (::mkdir(dir.c_str(), 0755) != 0)
        ADD_FAILURE() << dir << ": " << std::strerror(errno);
      else
        made_.push_back(dir);
      rel_[key] = rel;
      return dir;
    };
    if (!h.unified.empty()) paths_.unified = make(h.unified, "");
    // Two hierarchies without setup of their own (cpuset would need cpus).
    for (const char* c : {"pids", "freezer"})
      if (h.has_v1(c)) paths_.v1[c] = make(h.v1.at(c), c);
    paths_.mode = h.mode;
    if (HasFailure()) return;
    if (paths_.v1.empty() && paths_.unified.empty()) GTEST_SKIP() << "no cgroup hierarchy to test on";
  }
  void TearDown() override {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it)
      EXPECT_EQ(::rmdir(it->c_str()), 0) << *it << ": " << std::strerror(errno);
  }
  std::string name_;
  cg::Paths paths_;
  std::vector<std::string> made_;
  std::map<std::string, std::string> rel_;  // key of cgroups_of → the test's path
};

TEST_F(CgroupJoin, EnterMovesTheCallingThreadAloneAndBack) {
  const auto before = cgroups_of("/proc/thread-self/cgroup");
  std::atomic<pid_t> other_tid{0};
  std::atomic<bool> done{false};
  std::thread other([&] {
    other_tid = static_cast<pid_t>(::syscall(SYS_gettid));
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (other_tid == 0) std::this_thread::yield();
  const std::string other_file = "/proc/self/task/" + std::to_string(other_tid.load()) + "/cgroup";
  {
    cg::Cgroup c(paths_);
    cg::Enter in(c);
    const auto here = cgroups_of("/proc/thread-self/cgroup");
    const auto other_now = cgroups_of(other_file);
    for (const auto& [key, dir] : paths_.v1) {
      EXPECT_EQ(here.at(key), rel_.at(key)) << key;
      EXPECT_EQ(other_now.at(key), before.at(key)) << key << ": the other thread was moved too";
    }
    if (!paths_.unified.empty()) {
      ASSERT_GE(in.v2_fd(), 0);
      EXPECT_EQ(here.at(""), before.at("")) << "v2 is for the child only";
      // The child is born in every one of the test's cgroups.
      int p[2];
      ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
      const pid_t child = cg::clone_into(0, in.v2_fd());
      if (child == 0) {
        ::close(p[1]);
        char c;
        (void)!::read(p[0], &c, 1);
        ::_exit(0);
      }
      ASSERT_GT(child, 0) << std::strerror(errno);
      const auto theirs = cgroups_of("/proc/" + std::to_string(child) + "/cgroup");
      ::close(p[1]);
      ::close(p[0]);
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      for (const auto& [key, rel] : rel_) EXPECT_EQ(theirs.at(key), rel) << "hierarchy \"" << key << "\"";
    }
  }
  EXPECT_EQ(cgroups_of("/proc/thread-self/cgroup"), before);
  done = true;
  other.join();
}

TEST_F(CgroupJoin, CloneIntoRootsANewCgroupNamespaceInTheV2Cgroup) {
  if (paths_.unified.empty()) GTEST_SKIP() << "no cgroup2 mount";
  const Fd dir = cg::open_v2_dir(paths_.unified);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const pid_t child = cg::clone_into(CLONE_NEWCGROUP, dir.get());
  if (child == 0) {
    // Inside: its own cgroup is the namespace's root.
    const auto mine = cgroups_of("/proc/self/cgroup");
    const char ok = mine.count("") && mine.at("") == "/" ? 'y' : 'n';
    (void)!::write(p[1], &ok, 1);
    ::_exit(0);
  }
  ASSERT_GT(child, 0) << std::strerror(errno);
  ::close(p[1]);
  char ok = 0;
  EXPECT_EQ(::read(p[0], &ok, 1), 1);
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(ok, 'y') << "the child's v2 cgroup is not the root of its cgroup namespace";
}

struct VmChild {
  std::string want;  // the test's v2 path
  bool born_there = false;
};

int vm_child(void* p) {
  auto* c = static_cast<VmChild*>(p);
  const auto mine = cgroups_of("/proc/self/cgroup");
  c->born_there = mine.count("") && mine.at("") == c->want;  // the caller's memory
  return 0;
}

TEST_F(CgroupJoin, CloneVmIntoRunsOnItsStackInTheV2Cgroup) {
  if (paths_.unified.empty()) GTEST_SKIP() << "no cgroup2 mount";
  const Fd dir = cg::open_v2_dir(paths_.unified);
  std::vector<char> stack(256 << 10);
  VmChild c{rel_.at(""), false};
  const pid_t child = cg::clone_vm_into(0, dir.get(), stack.data(), stack.size(), vm_child, &c);
  if (child < 0 && errno == ENOSYS) GTEST_SKIP() << "no clone3 with a stack on this architecture or kernel";
  ASSERT_GT(child, 0) << std::strerror(errno);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(c.born_there) << "the child was not born in " << paths_.unified;
}

}  // namespace
}  // namespace crius::testing::rt
