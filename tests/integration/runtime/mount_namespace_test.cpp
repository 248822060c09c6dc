// The mount namespace entry of linux.namespaces: joined by path (the
// container is set up inside that namespace, as runc does), and left out (the
// caller's namespace is shared; the spec says it is inherited).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(MountNamespace);

// A child process in a mount namespace of its own (a slave of ours) where a
// tmpfs at `dir` holds `marker`: only that namespace sees the file. Killed
// and reaped on destruction.
class MountNsHolder {
 public:
  explicit MountNsHolder(const fs::path& dir) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    const std::string d = dir.string(), marker = (dir / "marker").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      if (::unshare(CLONE_NEWNS) != 0 || ::mount("", "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0 ||
          ::mount("tmpfs", d.c_str(), "tmpfs", 0, "size=1m") != 0)
        ::_exit(1);
      int fd = ::open(marker.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0 || ::write(fd, "joined", 6) != 6) ::_exit(1);
      ::close(fd);
      if (::write(p[1], "y", 1) != 1) ::_exit(1);
      for (;;) ::pause();
    }
    ::close(p[1]);
    char c = 0;
    ok_ = pid_ > 0 && ::read(p[0], &c, 1) == 1;
    ::close(p[0]);
  }
  ~MountNsHolder() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  MountNsHolder(const MountNsHolder&) = delete;
  MountNsHolder& operator=(const MountNsHolder&) = delete;
  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }
  std::string ns_path() const { return "/proc/" + std::to_string(pid_) + "/ns/mnt"; }

 private:
  pid_t pid_ = -1;
  bool ok_ = false;
};

TEST_P(MountNamespace, JoinByPathSeesThatNamespacesMounts) {
  auto b = bundle();
  fs::create_directories(b->rootfs() / "joined");
  MountNsHolder holder(b->rootfs() / "joined");
  ASSERT_TRUE(holder.ok()) << "could not set up the mount namespace holder";
  struct stat st {};
  ASSERT_EQ(::stat(holder.ns_path().c_str(), &st), 0);

  b->args({"sleep", "60"});
  b->remove_namespace("mount");
  b->add_namespace("mount", holder.ns_path());
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  EXPECT_EQ(ns_inode(pid, "mnt"), st.st_ino) << "the container must be in " << holder.ns_path();
  // The tmpfs exists only in the joined namespace; the container's root is
  // the rootfs seen from there.
  EXPECT_EQ(read_file("/proc/" + std::to_string(pid) + "/root/joined/marker"), "joined");
  EXPECT_EQ(read_file(b->rootfs() / "joined/marker"), "") << "the holder's tmpfs must not be visible here";
}

TEST_P(MountNamespace, JoinOfAnotherTypeIsRefused) {
  auto b = bundle();
  b->remove_namespace("mount");
  b->add_namespace("mount", "/proc/self/ns/net");
  auto c = container();
  auto r = c->create(*b);
  EXPECT_FALSE(r.ok()) << r.describe();
}

TEST_P(MountNamespace, NoneSharesTheCallersAndDeleteLeavesNoMount) {
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 leaves the container's mounts in the caller's mount namespace after delete");
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1 leaves the container's mounts in the caller's mount namespace after delete");
  auto b = bundle();
  b->args({"sleep", "60"});
  b->remove_namespace("mount");
  auto c = container();
  std::string error;
  pid_t pid = c->launch(*b, "sleep", &error);
  ASSERT_GT(pid, 0) << error;
  EXPECT_EQ(ns_inode(pid, "mnt"), ns_inode(::getpid(), "mnt"));
  // Its mounts are ours too, and its root is the rootfs (chroot).
  auto here = mounts_under(b->rootfs());
  EXPECT_NE(std::find(here.begin(), here.end(), (b->rootfs() / "proc").string()), here.end())
      << "the container's /proc should be mounted in our namespace";
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/root"), b->rootfs());

  ASSERT_TRUE(rt().kill(c->id(), "KILL").ok());
  ASSERT_TRUE(wait_gone(pid));
  auto d = rt().del(c->id());
  ASSERT_TRUE(d.ok()) << d.describe();
  EXPECT_TRUE(mounts_under(b->rootfs()).empty()) << "delete must detach the container's mounts";
}

}  // namespace
}  // namespace crius::testing::rt
