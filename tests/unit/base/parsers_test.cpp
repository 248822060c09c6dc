// The /proc parsers and string helpers every folder shares.
#include <gtest/gtest.h>
#include <unistd.h>

#include "base/file.h"
#include "base/mountinfo.h"
#include "base/proc_cgroup.h"
#include "base/proc_stat.h"
#include "base/strings.h"
#include "base/user_namespace.h"

namespace crius {
namespace {

TEST(Mountinfo, FieldsOptionalTagsAndOctalEscapes) {
  const std::string text =
      "36 35 98:0 /mnt1 /mnt\\040with\\011tab rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n"
      "37 36 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
      "garbage line\n"
      "38 36 0:31 /back\\134slash /private rw - tmpfs tmp\\040fs rw\n";
  const auto m = parse_mountinfo(text);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].id, 36);
  EXPECT_EQ(m[0].parent, 35);
  EXPECT_EQ(m[0].root, "/mnt1");
  EXPECT_EQ(m[0].mount_point, "/mnt with\ttab");
  EXPECT_EQ(m[0].options, "rw,noatime");
  EXPECT_EQ(m[0].optional, (std::vector<std::string>{"master:1", "shared:7"}));
  EXPECT_EQ(m[0].propagation(), "shared");
  EXPECT_EQ(m[0].fs_type, "ext3");
  EXPECT_EQ(m[0].source, "/dev/root");
  EXPECT_EQ(m[0].super_options, "rw,errors=continue");
  EXPECT_EQ(m[1].propagation(), "private");
  EXPECT_EQ(m[1].super_options, "rw,memory");
  EXPECT_EQ(m[2].root, "/back\\slash");
  EXPECT_EQ(m[2].source, "tmp fs");
}

TEST(Mountinfo, SlaveOnlyAndNonOctalBackslash) {
  const auto m = parse_mountinfo("1 0 0:1 / /a rw master:3 - tmpfs t rw\n2 0 0:1 / /b\\9x rw - tmpfs t rw");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].propagation(), "slave");
  EXPECT_EQ(m[1].mount_point, "/b\\9x");
}

TEST(Mountinfo, OwnMountsIncludeTheRoot) {
  bool root = false;
  for (const auto& m : read_mountinfo()) root = root || m.mount_point == "/";
  EXPECT_TRUE(root);
}

TEST(ProcCgroup, V1V2AndNamedHierarchies) {
  const auto c = parse_proc_cgroup("12:cpu,cpuacct:/kubepods/pod1\n1:name=systemd:/init.scope\n0::/user.slice\n");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].hierarchy_id, "12");
  EXPECT_EQ(c[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(c[0].controller_list, "cpu,cpuacct");
  EXPECT_EQ(c[0].path, "/kubepods/pod1");
  EXPECT_EQ(c[1].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_TRUE(c[2].controllers.empty());
  EXPECT_EQ(c[2].path, "/user.slice");
  EXPECT_EQ(c[2].line, "0::/user.slice");
}

TEST(ProcCgroup, PathsMayHoldColons) {
  const auto c = parse_proc_cgroup("0::/a:b\n");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].path, "/a:b");
}

TEST(Strings, TrimSplitWords) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim(" \n "), "");
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(words("  x\ty \n z "), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_TRUE(words("   ").empty());
}

}  // namespace
}  // namespace crius

namespace crius {
namespace {

TEST(UidMap, OnlyTheFullIdentityMapIsTheHosts) {
  EXPECT_FALSE(is_restricted_uid_map("         0          0 4294967295\n"));
  EXPECT_TRUE(is_restricted_uid_map("         0       1000          1\n"));
  EXPECT_TRUE(is_restricted_uid_map("0 1000 1\n1 100000 65536\n"));
  EXPECT_TRUE(is_restricted_uid_map("0 0 1\n"));  // unshare --map-root-user as root
  EXPECT_TRUE(is_restricted_uid_map(""));
}

}  // namespace
}  // namespace crius

namespace crius {
namespace {

TEST(RunningPidInFile, ThePidWhenItRunsUnderThatName) {
  char tmpl[] = "/tmp/crius-pidfile-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string file = tmpl;
  write_file(file, std::to_string(::getpid()));
  const std::string comm = trim(read_file_or_empty("/proc/self/comm"));
  EXPECT_EQ(running_pid_in_file(file, comm.substr(0, 5)), ::getpid());
  EXPECT_EQ(running_pid_in_file(file, "slirp4netns"), -1);  // a reused pid under another name
  write_file(file, "not a pid");
  EXPECT_EQ(running_pid_in_file(file, comm), -1);
  ::unlink(file.c_str());
  EXPECT_EQ(running_pid_in_file(file, comm), -1);
  EXPECT_TRUE(process_running(::getpid()));
  EXPECT_FALSE(process_running(0));
}

}  // namespace
}  // namespace crius
