// The registry of CDI devices: which file wins between and within the spec
// directories, bad files reported while the others load, and the watch that
// sees a file added after the first lookup.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "oci/cdi/registry.h"
#include "tests/unit/oci/cdi/cdi_fixture.h"

namespace crius::oci::cdi {
namespace {

std::string spec(const std::string& kind, const std::string& device, const std::string& env) {
  return R"({"cdiVersion": "0.6.0", "kind": ")" + kind + R"(", "devices": [{"name": ")" + device +
         R"(", "containerEdits": {"env": [")" + env + R"("]}}]})";
}

std::string env_of(const Catalog& c, const std::string& name) { return c.devices.at(name).device->edits.env.at(0); }

using CdiRegistry = CdiDir;

TEST_F(CdiRegistry, ALaterDirectoryWinsForTheSameDevice) {
  write("etc/a.json", spec("vendor.com/dev", "x", "FROM=etc"));
  write("etc/b.json", spec("vendor.com/dev", "only-etc", "FROM=etc"));
  write("run/a.yaml", "cdiVersion: 0.6.0\nkind: vendor.com/dev\ndevices:\n- name: x\n  containerEdits: {env: [FROM=run]}\n");
  const Catalog c = scan({dir_ + "/etc", dir_ + "/run"});
  EXPECT_EQ(env_of(c, "vendor.com/dev=x"), "FROM=run");
  EXPECT_EQ(c.devices.at("vendor.com/dev=x").spec->path, dir_ + "/run/a.yaml");
  EXPECT_EQ(env_of(c, "vendor.com/dev=only-etc"), "FROM=etc");
  EXPECT_TRUE(c.problems.empty());
  // The other way round, the other file wins.
  EXPECT_EQ(env_of(scan({dir_ + "/run", dir_ + "/etc"}), "vendor.com/dev=x"), "FROM=etc");
}

TEST_F(CdiRegistry, TwoFilesOfOneDirectoryForTheSameDeviceConflict) {
  write("d/a.json", spec("vendor.com/dev", "x", "A=1"));
  write("d/b.json", spec("vendor.com/dev", "x", "B=1"));
  write("d/c.json", spec("vendor.com/dev", "y", "C=1"));
  const Catalog c = scan({dir_ + "/d"});
  EXPECT_FALSE(c.devices.contains("vendor.com/dev=x"));
  EXPECT_TRUE(c.devices.contains("vendor.com/dev=y"));
  ASSERT_EQ(c.problems.size(), 2u);
  EXPECT_EQ(c.problems[0].path, dir_ + "/d/a.json");
  EXPECT_EQ(c.problems[1].path, dir_ + "/d/b.json");
  EXPECT_NE(c.problems[0].reason.find("vendor.com/dev=x"), std::string::npos) << c.problems[0].reason;
  // A higher directory settles it.
  write("e/z.json", spec("vendor.com/dev", "x", "E=1"));
  EXPECT_EQ(env_of(scan({dir_ + "/d", dir_ + "/e"}), "vendor.com/dev=x"), "E=1");
}

TEST_F(CdiRegistry, ABadFileIsReportedAndTheOthersStillLoad) {
  write("d/10-bad.json", R"({"cdiVersion": "0.3.0", "kind": "vendor.com/dev", "devices": [)"
                         R"({"name": "b", "containerEdits": {"mounts": [{"hostPath": "/a", "containerPath": "/a", "type": "bind"}]}}]})");
  write("d/20-broken.yaml", "cdiVersion: [\n");
  write("d/30-good.json", spec("vendor.com/dev", "good", "OK=1"));
  write("d/notes.txt", "not a spec");
  std::filesystem::create_directories(dir_ + "/d/sub.json");
  write("d/sub/x.json", spec("vendor.com/dev", "nested", "N=1"));
  ASSERT_EQ(::mkfifo((dir_ + "/d/fifo.json").c_str(), 0600), 0);  // would block a reader: not read
  const Catalog c = scan({dir_ + "/d", dir_ + "/missing"});
  ASSERT_EQ(c.devices.size(), 1u);
  EXPECT_TRUE(c.devices.contains("vendor.com/dev=good"));
  ASSERT_EQ(c.problems.size(), 2u);
  EXPECT_EQ(c.problems[0].path, dir_ + "/d/10-bad.json");
  EXPECT_NE(c.problems[0].reason.find("needs cdiVersion 0.4.0"), std::string::npos) << c.problems[0].reason;
  EXPECT_EQ(c.problems[1].path, dir_ + "/d/20-broken.yaml");
  EXPECT_NE(c.problems[1].reason.find("not valid YAML"), std::string::npos) << c.problems[1].reason;

  const nlohmann::json d = describe(c);
  EXPECT_EQ(d["specDirs"], nlohmann::json({dir_ + "/d", dir_ + "/missing"}));
  EXPECT_EQ(d["devices"], nlohmann::json::parse(R"([{"name": "vendor.com/dev=good", "spec": ")" + dir_ +
                                                R"(/d/30-good.json"}])"));
  EXPECT_EQ(d["specErrors"].size(), 2u);
  EXPECT_EQ(d["specErrors"][1]["path"], dir_ + "/d/20-broken.yaml");
}

TEST_F(CdiRegistry, AFileAddedOrChangedLaterIsSeenAtTheNextLookup) {
  Registry r;
  const std::vector<std::string> dirs = {dir_ + "/etc", dir_ + "/run"};  // neither exists yet
  auto first = r.catalog(dirs);
  EXPECT_TRUE(first->devices.empty());
  EXPECT_EQ(r.catalog(dirs), first) << "nothing changed: not read again";

  write("run/a.json", spec("vendor.com/dev", "x", "V=1"));  // creates the directory, then the file
  auto second = r.catalog(dirs);
  ASSERT_TRUE(second->devices.contains("vendor.com/dev=x"));
  EXPECT_EQ(env_of(*second, "vendor.com/dev=x"), "V=1");
  EXPECT_TRUE(first->devices.empty()) << "a catalog handed out does not change under its holder";

  write("run/a.json", spec("vendor.com/dev", "x", "V=2"));
  EXPECT_EQ(env_of(*r.catalog(dirs), "vendor.com/dev=x"), "V=2");
  write("etc/b.json", spec("vendor.com/dev", "y", "W=1"));  // the other directory, created now too
  EXPECT_TRUE(r.catalog(dirs)->devices.contains("vendor.com/dev=y"));
  std::filesystem::remove(dir_ + "/run/a.json");
  EXPECT_FALSE(r.catalog(dirs)->devices.contains("vendor.com/dev=x"));
  // Other directories (a reloaded config): read at once.
  EXPECT_TRUE(r.catalog({dir_ + "/run"})->devices.empty());
}

}  // namespace
}  // namespace crius::oci::cdi
