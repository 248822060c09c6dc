// The default /dev set and linux.devices.
#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Devices);

TEST_P(Devices, DefaultDevicesAndLinks) {
  auto b = bundle();
  // stat: name, type, major:minor in hex.
  b->sh(
      "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done; "
      "for l in ptmx fd stdin stdout stderr; do echo \"/dev/$l -> $(readlink /dev/$l)\"; done; "
      "[ -d /dev/pts ] && echo pts-dir; [ -d /dev/shm ] && echo shm-dir; "
      "echo x > /dev/null && head -c 3 /dev/zero | od -An -tx1 | tr -d ' \\n'; echo; "
      "head -c 8 /dev/urandom | wc -c");
  auto r = rt().run(unique_id("dev"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  for (const char* want :
       {"/dev/null character special file 1:3", "/dev/zero character special file 1:5",
        "/dev/full character special file 1:7", "/dev/random character special file 1:8",
        "/dev/urandom character special file 1:9", "/dev/tty character special file 5:0", "/dev/ptmx -> pts/ptmx",
        "/dev/fd -> /proc/self/fd", "/dev/stdin -> /proc/self/fd/0", "/dev/stdout -> /proc/self/fd/1",
        "/dev/stderr -> /proc/self/fd/2", "pts-dir", "shm-dir", "000000\n8\n"})
    EXPECT_NE(r.out.find(want), std::string::npos) << "missing: " << want << "\n" << r.describe();
}

TEST_P(Devices, LinuxDevicesAreCreated) {
  auto b = bundle();
  b->spec["linux"]["devices"] = {{{"path", "/dev/mynull"},
                                  {"type", "c"},
                                  {"major", 1},
                                  {"minor", 3},
                                  {"fileMode", 0620},
                                  {"uid", 1000},
                                  {"gid", 2000}},
                                 {{"path", "/dev/sub/myzero"}, {"type", "c"}, {"major", 1}, {"minor", 5}}};
  // The default devices cgroup rule denies everything else: allow ours.
  b->spec["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rwm"}});
  b->spec["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 5}, {"access", "rwm"}});
  b->sh(
      "stat -c '%F %t:%T %a %u:%g' /dev/mynull; stat -c '%F %t:%T' /dev/sub/myzero; "
      "echo data > /dev/sub/myzero && echo write-ok; head -c 2 /dev/sub/myzero | wc -c");
  auto r = rt().run(unique_id("dev"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out,
            "character special file 1:3 620 1000:2000\n"
            "character special file 1:5\n"
            "write-ok\n2\n")
      << r.describe();
}

TEST_P(Devices, DevIsATmpfsNotTheHostDev) {
  auto b = bundle();
  b->sh("ls /dev | grep -c -E '^(sda|vda|nvme0|kmsg|mem)$' || true");
  auto r = rt().run(unique_id("dev"), *b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "0\n") << "host devices visible in the container\n" << r.describe();
}

}  // namespace
}  // namespace crius::testing::rt
