// The rest of runc's command line: list, spec, features, --log/--log-format.
#include <algorithm>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Cli);

TEST_P(Cli, ListShowsContainersAndStatus) {
  auto empty = rt().list();
  EXPECT_EQ(empty.exit_code, 0) << empty.describe();

  auto b1 = bundle("b1");
  b1->args({"sleep", "60"});
  auto created = container("created");
  ASSERT_TRUE(created->create(*b1).ok());
  auto b2 = bundle("b2");
  b2->args({"sleep", "60"});
  auto running = container("running");
  std::string error;
  ASSERT_GT(running->launch(*b2, "sleep", &error), 0) << error;

  auto r = rt().list();
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // Text format: a header, then one line per container with its id first
  // and its status among the columns.
  auto line_of = [&](const std::string& id) {
    std::istringstream in(r.out);
    std::string l;
    while (std::getline(in, l))
      if (l.rfind(id + " ", 0) == 0) return l;
    return std::string();
  };
  const std::string l1 = line_of(created->id()), l2 = line_of(running->id());
  EXPECT_NE(l1.find(" created "), std::string::npos) << r.out;
  EXPECT_NE(l2.find(" running "), std::string::npos) << r.out;
  EXPECT_NE(l1.find(b1->dir().string()), std::string::npos) << "bundle column: " << r.out;
}

TEST_P(Cli, SpecWritesADefaultConfig) {
  const fs::path d = dir("spec");
  auto r = rt().spec(d);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  nlohmann::json spec;
  ASSERT_NO_THROW(spec = nlohmann::json::parse(read_file(d / "config.json")));
  EXPECT_TRUE(spec["ociVersion"].is_string());
  EXPECT_EQ(spec["root"]["path"], "rootfs");
  EXPECT_FALSE(spec["process"]["args"].empty());
  EXPECT_EQ(spec["process"]["cwd"], "/");
  bool has_mount_ns = false, has_user_ns = false;
  for (const auto& ns : spec["linux"]["namespaces"]) {
    has_mount_ns |= ns["type"] == "mount";
    has_user_ns |= ns["type"] == "user";
  }
  EXPECT_TRUE(has_mount_ns);
  EXPECT_FALSE(has_user_ns) << "the default spec is not rootless";
  EXPECT_FALSE(spec["linux"].contains("uidMappings"));
  bool has_proc = false;
  for (const auto& m : spec["mounts"]) has_proc |= m["destination"] == "/proc" && m["type"] == "proc";
  EXPECT_TRUE(has_proc);

  // It refuses to overwrite an existing config.json.
  write_file(d / "config.json", "{}");
  auto again = rt().spec(d);
  EXPECT_NE(again.exit_code, 0) << again.describe();
  EXPECT_EQ(read_file(d / "config.json"), "{}");
}

TEST_P(Cli, SpecWithBundleFlag) {
  const fs::path d = dir("spec-bundle");
  auto r = rt().cmd({"spec", "--bundle", d.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(fs::exists(d / "config.json"));
}

TEST_P(Cli, SpecRootless) {
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1's rootless spec keeps the network namespace and has no id mappings");
  const fs::path d = dir("spec-rootless");
  auto r = rt().cmd({"spec", "--rootless", "--bundle", d.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  nlohmann::json spec;
  ASSERT_NO_THROW(spec = nlohmann::json::parse(read_file(d / "config.json")));
  std::vector<std::string> types;
  for (const auto& ns : spec["linux"]["namespaces"]) types.push_back(ns["type"]);
  EXPECT_NE(std::find(types.begin(), types.end(), "user"), types.end());
  EXPECT_EQ(std::find(types.begin(), types.end(), "network"), types.end());
  const nlohmann::json uid_map = {{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}};
  const nlohmann::json gid_map = {{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}};
  EXPECT_EQ(spec["linux"]["uidMappings"], uid_map);
  EXPECT_EQ(spec["linux"]["gidMappings"], gid_map);
  EXPECT_FALSE(spec["linux"].contains("resources")) << "no cgroup settings without privileges";
  for (const auto& m : spec["mounts"]) {
    if (m["destination"] == "/sys") {
      EXPECT_EQ(m["source"], "/sys");
      EXPECT_NE(std::find(m["options"].begin(), m["options"].end(), "rbind"), m["options"].end());
    }
    for (const auto& o : m.value("options", nlohmann::json::array()))
      EXPECT_TRUE(o.get<std::string>().rfind("gid=", 0) != 0 && o.get<std::string>().rfind("uid=", 0) != 0) << m;
  }
}

TEST_P(Cli, SpecOutputRuns) {
  // The default spec (with sh replaced by a command that exits, and no
  // terminal) runs on the busybox rootfs.
  const fs::path d = dir("spec-run");
  ASSERT_TRUE(rt().spec(d).ok());
  Bundle b(d);
  b.spec = nlohmann::json::parse(read_file(d / "config.json"));
  b.spec["process"]["terminal"] = false;
  b.args({"echo", "spec-ok"});
  auto r = rt().run(unique_id("spec"), b);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "spec-ok\n") << r.describe();
}

TEST_P(Cli, FeaturesJson) {
  auto r = rt().features();
  if (is("crun") && r.exit_code != 0 && r.err.find("unknown command") != std::string::npos)
    GTEST_SKIP() << "crun 1.8.1 predates the features command";
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  nlohmann::json f;
  ASSERT_NO_THROW(f = nlohmann::json::parse(r.out)) << r.out;
  EXPECT_TRUE(f["ociVersionMin"].is_string()) << r.out;
  EXPECT_TRUE(f["ociVersionMax"].is_string()) << r.out;
  auto has = [](const nlohmann::json& arr, const std::string& v) {
    return arr.is_array() && std::find(arr.begin(), arr.end(), v) != arr.end();
  };
  for (const char* h : {"createRuntime", "createContainer", "startContainer", "poststart", "poststop"})
    EXPECT_TRUE(has(f["hooks"], h)) << h << " missing from hooks: " << r.out;
  for (const char* o : {"ro", "nosuid", "nodev", "noexec", "rbind", "rro", "rslave", "private"})
    EXPECT_TRUE(has(f["mountOptions"], o)) << o << " missing from mountOptions";
  ASSERT_TRUE(f.contains("linux")) << r.out;
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "user", "cgroup"})
    EXPECT_TRUE(has(f["linux"]["namespaces"], ns)) << ns << " missing from linux.namespaces";
  EXPECT_TRUE(has(f["linux"]["capabilities"], "CAP_SYS_ADMIN"));
  ASSERT_TRUE(f["linux"].contains("seccomp"));
  EXPECT_EQ(f["linux"]["seccomp"].value("enabled", false), true);
  EXPECT_TRUE(has(f["linux"]["seccomp"]["actions"], "SCMP_ACT_ERRNO"));
  EXPECT_TRUE(has(f["linux"]["seccomp"]["operators"], "SCMP_CMP_EQ"));
}

TEST_P(Cli, LogFormatJson) {
  // A failing create writes its error to --log as JSON lines.
  auto b = bundle();
  b->args({"sleep", "60"});
  b->add_namespace("network", "/proc/" + std::to_string(::getpid()) + "/ns/ipc");
  b->write();
  const fs::path log = tmp() / "runtime.log";
  const std::string id = unique_id("log");
  auto r = rt().cmd({"create", "--bundle", b->dir().string(), id}, {}, {"--log", log.string(), "--log-format", "json"});
  rt().del(id, true);
  EXPECT_NE(r.exit_code, 0) << r.describe();
  const std::string text = read_file(log);
  ASSERT_FALSE(text.empty()) << "nothing in --log " << log;
  bool error_line = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << "not a JSON line: " << line;
    EXPECT_TRUE(j.contains("msg") && j.contains("level")) << line;
    if (j.value("level", "") == "error") error_line = true;
  }
  EXPECT_TRUE(error_line) << "no level=error line in:\n" << text;
}

TEST_P(Cli, UnsupportedVerbFailsClearly) {
  auto r = rt().cmd({"no-such-verb"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_FALSE(r.err.empty() && r.out.empty()) << "no message for an unknown command";
}

}  // namespace

// The harness's default_spec() is what `runc spec` writes (ociVersion aside):
// tests start from the same config a runc user would.
TEST(DefaultSpec, MatchesRuncSpec) {
  bool have_runc = false;
  std::string runc;
  for (const auto& p : runtimes_under_test())
    if (p.name == "runc") have_runc = true, runc = p.binary;
  if (!have_runc || ::geteuid() != 0) GTEST_SKIP() << "needs runc and root";
  TempDir d;
  SpawnOptions o;
  o.cwd = d.path();
  auto r = spawn({runc, "spec"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto theirs = nlohmann::json::parse(read_file(d.path() / "config.json"));
  auto ours = default_spec();
  theirs.erase("ociVersion");
  ours.erase("ociVersion");
  EXPECT_EQ(ours, theirs) << "diff: " << nlohmann::json::diff(ours, theirs).dump(1);
}

}  // namespace crius::testing::rt
