// CNI config loading: lists, single-plugin files, versions, the first valid
// file by name, plugin lookup; and bandwidth quantities.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cni/config.h"
#include "cni/network.h"
#include "base/error.h"

namespace crius::cni {
namespace {
namespace fs = std::filesystem;

struct Dir {
  Dir() {
    std::string t = (fs::temp_directory_path() / "crius-cni-unit-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Dir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path + "/" + name) << text; }
  std::string path;
};

TEST(CniConfig, ParsesAList) {
  auto n = parse_network(R"({"cniVersion":"1.0.0","name":"pods","disableCheck":true,
                             "plugins":[{"type":"bridge","bridge":"cni0"},{"type":"portmap"}]})",
                         "/x/10.conflist");
  EXPECT_EQ(n.name, "pods");
  EXPECT_EQ(n.cni_version, "1.0.0");
  EXPECT_TRUE(n.disable_check);
  ASSERT_EQ(n.plugins.size(), 2u);
  EXPECT_EQ(n.plugins[0]["bridge"], "cni0");
  EXPECT_EQ(n.file, "/x/10.conflist");
}

TEST(CniConfig, WrapsASinglePluginFile) {
  auto n = parse_network(R"({"cniVersion":"0.4.0","name":"one","type":"bridge","ipam":{}})", "/x/10.conf");
  EXPECT_EQ(n.name, "one");
  EXPECT_EQ(n.cni_version, "0.4.0");
  ASSERT_EQ(n.plugins.size(), 1u);
  EXPECT_EQ(n.plugins[0]["type"], "bridge");
}

TEST(CniConfig, RefusesWhatIsInvalidNamingFileAndReason) {
  auto reason = [](const std::string& text, const std::string& file = "/x/a.conflist") {
    try {
      parse_network(text, file);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(reason("{").find("/x/a.conflist: not valid JSON"), std::string::npos);
  EXPECT_NE(reason(R"({"cniVersion":"1.0.0","plugins":[{"type":"b"}]})").find("\"name\""), std::string::npos);
  EXPECT_NE(reason(R"({"cniVersion":"0.2.0","name":"n","plugins":[{"type":"b"}]})").find("0.2.0 is not supported"),
            std::string::npos);
  EXPECT_NE(reason(R"({"cniVersion":"2.0.0","name":"n","plugins":[{"type":"b"}]})").find("not supported"),
            std::string::npos);
  EXPECT_NE(reason(R"({"cniVersion":"1.0.0","name":"n","plugins":[]})").find("empty"), std::string::npos);
  EXPECT_NE(reason(R"({"cniVersion":"1.0.0","name":"n","plugins":[{"x":1}]})").find("plugins[0]"), std::string::npos);
  EXPECT_NE(reason(R"({"cniVersion":"1.0.0","name":"n"})", "/x/a.conf").find("\"type\""), std::string::npos);
  for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"})
    EXPECT_EQ(reason(std::string(R"({"cniVersion":")") + v + R"(","name":"n","plugins":[{"type":"b"}]})"), "accepted") << v;
}

TEST(CniConfig, VersionOrder) {
  EXPECT_TRUE(version_at_least("0.4.0", "0.4.0"));
  EXPECT_TRUE(version_at_least("1.1.0", "0.4.0"));
  EXPECT_FALSE(version_at_least("0.3.1", "0.4.0"));
}

TEST(CniConfig, LoadsTheFirstValidFileByName) {
  Dir d;
  auto none = load_first(d.path);
  EXPECT_FALSE(none.network);
  EXPECT_NE(none.problem.find("no CNI network config found in " + d.path), std::string::npos);

  d.write("30-c.conflist", R"({"cniVersion":"1.0.0","name":"c","plugins":[{"type":"b"}]})");
  d.write("20-b.conf", R"({"cniVersion":"1.0.0","name":"b","type":"b"})");
  d.write("10-a.conflist", "{broken");
  d.write("05-ignored.txt", R"({"cniVersion":"1.0.0","name":"t","plugins":[{"type":"b"}]})");
  auto l = load_first(d.path);
  ASSERT_TRUE(l.network);
  EXPECT_EQ(l.network->name, "b");

  fs::remove(d.path + "/20-b.conf");
  fs::remove(d.path + "/30-c.conflist");
  auto bad = load_first(d.path);
  EXPECT_FALSE(bad.network);
  EXPECT_NE(bad.problem.find("10-a.conflist: not valid JSON"), std::string::npos) << bad.problem;
}

TEST(CniConfig, FindsPluginsInOrderAndOnlyExecutables) {
  Dir a, b;
  a.write("plug", "#!/bin/sh\n");  // not executable
  b.write("plug", "#!/bin/sh\n");
  ::chmod((b.path + "/plug").c_str(), 0755);
  EXPECT_EQ(find_plugin("plug", {a.path, b.path}), b.path + "/plug");
  ::chmod((a.path + "/plug").c_str(), 0755);
  EXPECT_EQ(find_plugin("plug", {a.path, b.path}), a.path + "/plug");
  EXPECT_EQ(find_plugin("missing", {a.path, b.path}), "");
  EXPECT_EQ(find_plugin("../b/plug", {a.path}), "") << "a type is never a path";
}

TEST(CniReadiness, SaysWhatIsMissing) {
  Dir conf, plugins;
  Cni cni(conf.path + "/cache", std::chrono::seconds(5));
  conf::NetworkConfig nc;
  nc.cni_config_dir = conf.path;
  nc.cni_plugin_dirs = {plugins.path};
  auto r = cni.readiness(nc);
  EXPECT_FALSE(r.ready);
  EXPECT_NE(r.message.find("no CNI network config"), std::string::npos);
  conf.write("10.conflist", R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"myplug"}]})");
  r = cni.readiness(nc);
  EXPECT_FALSE(r.ready);
  EXPECT_NE(r.message.find("myplug"), std::string::npos) << r.message;
  plugins.write("myplug", "#!/bin/sh\n");
  ::chmod((plugins.path + "/myplug").c_str(), 0755);
  EXPECT_TRUE(cni.readiness(nc).ready);
}

TEST(CniBandwidth, ReadsKubernetesQuantities) {
  EXPECT_EQ(parse_bandwidth("10M"), 10000000u);
  EXPECT_EQ(parse_bandwidth("1Gi"), 1073741824u);
  EXPECT_EQ(parse_bandwidth("500k"), 500000u);
  EXPECT_EQ(parse_bandwidth("1.5M"), 1500000u);
  EXPECT_EQ(parse_bandwidth("1000"), 1000u);
  EXPECT_THROW(parse_bandwidth("fast"), Error);
  EXPECT_THROW(parse_bandwidth("10X"), Error);
  EXPECT_THROW(parse_bandwidth(""), Error);
}

}  // namespace
}  // namespace crius::cni
