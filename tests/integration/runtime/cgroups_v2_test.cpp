// The cgroup v2 paths of the library against the real kernel, in a child
// cgroup of this host's cgroup2 mount (/sys/fs/cgroup/unified on a hybrid
// host) that each test creates and removes: membership, cgroup.freeze,
// cgroup.kill and the BPF device filter. Controller files (memory.max…)
// need controllers delegated to that mount, which a hybrid host does not do;
// those are covered against a fake tree in tests/unit/oci/cgroups/.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "base/error.h"
#include "oci/cgroups/devices.h"
#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/cgroup.h"
#include "tests/integration/runtime/harness.h"

namespace crius::testing::rt {
namespace {

namespace cg = oci::cgroups;

class CgroupV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const auto& h = cg::Hierarchy::parse_mountinfo(read_file("/proc/self/mountinfo"));
    if (h.unified.empty()) GTEST_SKIP() << "no cgroup2 mount on this host";
    paths_.mode = cg::Mode::v2;
    paths_.unified = h.unified + "/crius-v2test-" + std::to_string(::getpid()) + "-" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
    // mkdir, not Cgroup::create: that would delegate controllers from the
    // mount's root, which belongs to the host.
    ASSERT_EQ(::mkdir(paths_.unified.c_str(), 0755), 0) << paths_.unified << ": " << std::strerror(errno);
    mgr_ = std::make_unique<cg::Cgroup>(paths_);
  }
  void TearDown() override {
    for (pid_t p : children_) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    if (mgr_) {
      try {
        mgr_->thaw();
      } catch (...) {
      }
      try {
        mgr_->destroy();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
      EXPECT_FALSE(fs::exists(paths_.unified));
    }
  }
  // A child that sleeps; moved into the cgroup by the manager.
  pid_t sleeper() {
    pid_t p = ::fork();
    if (p == 0) {
      for (;;) ::pause();
    }
    children_.push_back(p);
    return p;
  }
  cg::Paths paths_;
  std::unique_ptr<cg::Cgroup> mgr_;
  std::vector<pid_t> children_;
};

TEST_F(CgroupV2, AddListFreezeThawKill) {
  const pid_t a = sleeper(), b = sleeper();
  mgr_->add(a);
  mgr_->add(b);
  auto pids = mgr_->pids();
  EXPECT_EQ(pids, (std::vector<pid_t>{std::min(a, b), std::max(a, b)}));

  mgr_->freeze();
  EXPECT_TRUE(mgr_->frozen());
  EXPECT_EQ(read_file(paths_.unified + "/cgroup.freeze"), "1\n");
  mgr_->thaw();
  EXPECT_FALSE(mgr_->frozen());

  mgr_->kill_all();  // cgroup.kill
  for (pid_t p : {a, b}) {
    int status = 0;
    ASSERT_EQ(::waitpid(p, &status, 0), p);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "pid " << p << " status " << status;
  }
  children_.clear();
  EXPECT_TRUE(mgr_->pids().empty());
}

TEST_F(CgroupV2, DestroyReportsProcessesLeft) {
  const pid_t a = sleeper();
  mgr_->add(a);
  try {
    mgr_->destroy();
    ADD_FAILURE() << "destroy of a cgroup with a process succeeded";
  } catch (const crius::Error& e) {
    EXPECT_EQ(e.code(), crius::ErrorCode::failed_precondition);
    EXPECT_NE(std::string(e.what()).find(std::to_string(a)), std::string::npos) << e.what();
  }
}

// Tries to open path from inside the cgroup: 0 or the errno.
int open_in_cgroup(const cg::Cgroup& m, const char* path) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  pid_t p = ::fork();
  if (p == 0) {
    ::close(pipefd[0]);
    int err = 0;
    try {
      m.add(0);
      int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      err = fd >= 0 ? 0 : errno;
    } catch (...) {
      err = -2;
    }
    (void)!::write(pipefd[1], &err, sizeof err);
    ::_exit(0);
  }
  ::close(pipefd[1]);
  int err = -3;
  if (::read(pipefd[0], &err, sizeof err) != sizeof err) err = -3;
  ::close(pipefd[0]);
  ::waitpid(p, nullptr, 0);
  return err;
}

TEST_F(CgroupV2, BpfDeviceFilterDeniesAndAllows) {
  // Without a filter, root opens /dev/kmsg (1:11).
  ASSERT_EQ(open_in_cgroup(*mgr_, "/dev/kmsg"), 0);
  std::vector<cg::DeviceRule> rules = {{false, 'a', -1, -1, "rwm"}};
  cg::attach_device_filter(paths_.unified, rules);
  EXPECT_EQ(open_in_cgroup(*mgr_, "/dev/kmsg"), EPERM) << "a device outside the rules was opened";
  EXPECT_EQ(open_in_cgroup(*mgr_, "/dev/null"), 0) << "a default device was refused";
  // An allow rule for it, replacing the first program.
  rules.push_back({true, 'c', 1, 11, "r"});
  cg::attach_device_filter(paths_.unified, rules);
  EXPECT_EQ(open_in_cgroup(*mgr_, "/dev/kmsg"), 0) << "an allowed device was refused";
  // allow all.
  cg::attach_device_filter(paths_.unified, {{true, 'a', -1, -1, "rwm"}});
  EXPECT_EQ(open_in_cgroup(*mgr_, "/dev/kmsg"), 0);
}

}  // namespace
}  // namespace crius::testing::rt
