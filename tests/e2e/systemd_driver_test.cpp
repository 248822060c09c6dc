// The daemon with --cgroup-driver systemd and a systemd reached through
// CRIUS_SYSTEMD_BUS: crius-fake-systemd (tests/integration/systemd) sees
// the pod's slice started by RunPodSandbox, the container's scope started
// by the monitor's builtin runtime, and both stopped on removal.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include "tests/integration/systemd/fake_systemd.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace crius::test {
namespace {

using nlohmann::json;

// Removes the test's top slice in every cgroup hierarchy, children first.
void remove_slice_everywhere(const std::string& top) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> bases = {"/sys/fs/cgroup"};
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) bases.push_back(e.path());
  for (const auto& base : bases) {
    const fs::path dir = base / top;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
      if (it->is_directory(ec)) dirs.push_back(it->path());
    dirs.push_back(dir);
    // Deepest first.
    std::sort(dirs.begin(), dirs.end(),
              [](const fs::path& a, const fs::path& b) { return a.string().size() > b.string().size(); });
    for (const auto& d : dirs) ::rmdir(d.c_str());
  }
}

TEST(SystemdDriverE2E, PodSliceAndContainerScopeThroughSystemd) {
  const std::string binary = CRIUS_FAKE_SYSTEMD_PATH;
  TempDir dir;
  crius::testing::FakeSystemd fake(binary, dir.path());
  ASSERT_TRUE(fake.ready()) << "the fake systemd did not start";
  const std::string top = "crius_e2esd" + std::to_string(::getpid());
  const std::string pod_slice = top + "-pod1.slice";
  struct Cleanup {
    std::string top;
    ~Cleanup() { remove_slice_everywhere(top); }
  } cleanup{top + ".slice"};
  {
    ContainerEnv env({"--cgroup-driver", "systemd"}, {{"CRIUS_SYSTEMD_BUS", fake.address()}});
    auto pc = pod_config("sd");
    pc.mutable_linux()->set_cgroup_parent(pod_slice);
    const std::string pod = env.run_pod(pc);
    auto starts = fake.calls("StartTransientUnit");
    ASSERT_EQ(starts.size(), 1u);
    EXPECT_EQ(starts[0]["name"], pod_slice);

    const std::string id = env.create(pod, container_config("c", env.image, {"sleep", "3600"}));
    const int pid = container_info(env.daemon, id).value("pid", 0);
    ASSERT_GT(pid, 0);
    const std::string scope = "crius-" + id + ".scope";
    starts = fake.calls("StartTransientUnit");
    ASSERT_EQ(starts.size(), 2u);
    EXPECT_EQ(starts[1]["name"], scope);
    EXPECT_EQ(starts[1]["properties"]["Slice"], pod_slice);
    EXPECT_EQ(starts[1]["properties"]["Delegate"], true);
    EXPECT_EQ(starts[1]["properties"]["PIDs"], nlohmann::json::array({pid}));
    std::ifstream proc_cgroup("/proc/" + std::to_string(pid) + "/cgroup");
    const std::string cgroups((std::istreambuf_iterator<char>(proc_cgroup)), {});
    EXPECT_NE(cgroups.find("/" + top + ".slice/" + pod_slice + "/" + scope + "\n"), std::string::npos) << cgroups;

    ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
    ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
    std::set<std::string> stopped;
    for (const auto& s : fake.calls("StopUnit")) stopped.insert(s["name"]);
    EXPECT_TRUE(stopped.count(scope));
    EXPECT_TRUE(stopped.count(pod_slice));
  }
}

}  // namespace
}  // namespace crius::test
