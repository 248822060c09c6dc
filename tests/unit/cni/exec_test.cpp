// Running plugin binaries: stdin/stdout/stderr, exit codes, the deadline;
// and the whole ADD/DEL chain with fake plugins (shell scripts) — prevResult,
// runtimeConfig by capability, CNI_ARGS, rollback and the on-disk cache.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cni/exec.h"
#include "cni/network.h"
#include "base/error.h"

namespace crius::cni {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Dir {
  Dir() {
    std::string t = (fs::temp_directory_path() / "crius-cni-exec-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Dir() { fs::remove_all(path); }
  std::string script(const std::string& name, const std::string& body) const {
    std::string p = path + "/" + name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    ::chmod(p.c_str(), 0755);
    return p;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string path;
};

TEST(CniExec, PassesStdinEnvAndCollectsOutput) {
  Dir d;
  auto p = d.script("echoer", "cat; echo \"$CNI_COMMAND\" >&2; exit 3\n");
  auto r = exec_plugin(p, {"CNI_COMMAND=ADD"}, "{\"a\":1}", 5s);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "{\"a\":1}");
  EXPECT_EQ(r.err, "ADD\n");
}

TEST(CniExec, KillsAPluginThatOverstays) {
  Dir d;
  auto p = d.script("hang", "sleep 100 & wait\n");
  const auto start = std::chrono::steady_clock::now();
  auto r = exec_plugin(p, {}, "", 300ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "bounded";
}

TEST(CniExec, LargeInputAndOutputDoNotDeadlock) {
  Dir d;
  auto p = d.script("cat", "cat\n");
  std::string big(1 << 20, 'x');
  auto r = exec_plugin(p, {}, big, 10s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), big.size());
}

// A fake plugin that logs its stdin and env, and answers ADD with a result
// naming itself (so the next plugin's prevResult can be checked).
std::string fake(const Dir& d, const std::string& name, const std::string& on_add = "") {
  return d.script(name, "in=$(cat)\n"
                        "echo \"$CNI_COMMAND " + name + " $CNI_ARGS $in\" >> " + d.path + "/log\n" + on_add +
                        "[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\"},"
                        "{\"address\":\"fd00::3/64\"}],\"dns\":{},\"by\":\"" + name + "\"}'\nexit 0\n");
}

struct CniChain : ::testing::Test {
  Dir plugins, conf, cache;
  conf::NetworkConfig nc;
  Attachment a;
  void SetUp() override {
    nc.cni_config_dir = conf.path;
    nc.cni_plugin_dirs = {plugins.path};
    a.id = "abc";
    a.netns = "/run/netns/none";
    a.pod_namespace = "ns1";
    a.pod_name = "p1";
    a.pod_uid = "u1";
    a.port_mappings = {{"tcp", 80, 8080, ""}};
    a.annotations = {{"kubernetes.io/ingress-bandwidth", "1M"}, {"x", "y"}};
  }
  void config(const std::string& plugins_json, const std::string& version = "1.0.0") {
    std::ofstream(conf.path + "/10.conflist")
        << R"({"cniVersion":")" << version << R"(","name":"net","plugins":[)" << plugins_json << "]}";
  }
  std::vector<nlohmann::json> calls(const std::string& command) {
    std::vector<nlohmann::json> out;
    std::istringstream in(plugins.read("log"));
    std::string line;
    while (std::getline(in, line)) {
      // "<command> <plugin> <CNI_ARGS, maybe empty> <stdin JSON>"
      const size_t brace = line.find('{');
      std::istringstream ls(line.substr(0, brace));
      std::string cmd, name, args;
      ls >> cmd >> name >> args;
      if (cmd != command) continue;
      auto j = nlohmann::json::parse(line.substr(brace));
      j["_plugin"] = name;
      j["_args"] = args;
      out.push_back(j);
    }
    return out;
  }
};

TEST_F(CniChain, AddRunsInOrderWithPrevResultAndCapabilities) {
  fake(plugins, "one");
  fake(plugins, "two");
  config(R"({"type":"one"},{"type":"two","capabilities":{"portMappings":true,"bandwidth":true,
            "io.kubernetes.cri.pod-annotations":true}})");
  Cni cni(cache.path, 5s);
  auto r = cni.add(nc, a);
  EXPECT_EQ(r.network, "net");
  EXPECT_EQ(r.ips, (std::vector<std::string>{"10.1.2.3", "fd00::3"}));
  EXPECT_EQ(r.result["by"], "two");
  auto adds = calls("ADD");
  ASSERT_EQ(adds.size(), 2u);
  EXPECT_EQ(adds[0]["_plugin"], "one");
  EXPECT_FALSE(adds[0].contains("prevResult"));
  EXPECT_FALSE(adds[0].contains("runtimeConfig")) << "no capability declared";
  EXPECT_EQ(adds[0]["name"], "net");
  EXPECT_EQ(adds[0]["cniVersion"], "1.0.0");
  EXPECT_EQ(adds[0]["_args"], "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=p1;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u1");
  EXPECT_EQ(adds[1]["prevResult"]["by"], "one");
  const auto& rc = adds[1]["runtimeConfig"];
  EXPECT_EQ(rc["portMappings"][0]["hostPort"], 8080);
  EXPECT_EQ(rc["portMappings"][0]["containerPort"], 80);
  EXPECT_EQ(rc["portMappings"][0]["protocol"], "tcp");
  EXPECT_EQ(rc["bandwidth"]["ingressRate"], 1000000);
  EXPECT_FALSE(rc["bandwidth"].contains("egressRate"));
  EXPECT_EQ(rc["io.kubernetes.cri.pod-annotations"]["x"], "y");

  // DEL goes in reverse with the cached result, even with the config gone.
  fs::remove(conf.path + "/10.conflist");
  ASSERT_TRUE(cni.cached("abc"));
  Cni after_restart(cache.path, 5s);
  after_restart.del(nc, "abc");
  auto dels = calls("DEL");
  ASSERT_EQ(dels.size(), 2u);
  EXPECT_EQ(dels[0]["_plugin"], "two");
  EXPECT_EQ(dels[1]["_plugin"], "one");
  EXPECT_EQ(dels[0]["prevResult"]["by"], "two");
  EXPECT_FALSE(after_restart.cached("abc"));
  after_restart.del(nc, "abc");  // idempotent
  EXPECT_EQ(calls("DEL").size(), 2u);
}

TEST_F(CniChain, AFailureHalfwayIsRolledBackAndReportsThePluginError) {
  fake(plugins, "one");
  plugins.script("bad", "cat >/dev/null\n[ \"$CNI_COMMAND\" = DEL ] && echo DEL bad x {} >> " + plugins.path +
                            "/log && exit 0\n"
                            "echo '{\"code\":7,\"msg\":\"no addresses left\",\"details\":\"range 10.1.2.0/24 is full\"}'; exit 1\n");
  config(R"({"type":"one"},{"type":"bad"})");
  Cni cni(cache.path, 5s);
  try {
    cni.add(nc, a);
    FAIL() << "ADD succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad ADD"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no addresses left: range 10.1.2.0/24 is full"), std::string::npos) << e.what();
  }
  auto dels = calls("DEL");
  ASSERT_EQ(dels.size(), 2u);
  EXPECT_EQ(dels[0]["_plugin"], "bad");
  EXPECT_EQ(dels[1]["_plugin"], "one");
  EXPECT_FALSE(cni.cached("abc"));
}

// The pod CIDRs (UpdateRuntimeConfig) reach only the plugins that declare
// ipRanges, one range set per CIDR; DEL repeats what ADD got, even after
// the CIDR changed.
TEST_F(CniChain, IpRangesGoToPluginsThatDeclareTheCapability) {
  fake(plugins, "one");
  fake(plugins, "two");
  config(R"({"type":"one","capabilities":{"portMappings":true}},{"type":"two","capabilities":{"ipRanges":true}})");
  Cni cni(cache.path, 5s);
  cni.add(nc, a);
  EXPECT_FALSE(calls("ADD")[1].contains("runtimeConfig")) << "no pod CIDR yet: nothing to give";
  cni.del(nc, "abc");

  ASSERT_TRUE(cni.set_pod_cidrs({"10.244.3.0/24", "fd00:3::/64"}));
  cni.add(nc, a);
  auto adds = calls("ADD");
  ASSERT_EQ(adds.size(), 4u);
  EXPECT_FALSE(adds[2]["runtimeConfig"].contains("ipRanges")) << "plugin one did not declare ipRanges";
  EXPECT_EQ(adds[3]["runtimeConfig"]["ipRanges"],
            nlohmann::json::parse(R"([[{"subnet":"10.244.3.0/24"}],[{"subnet":"fd00:3::/64"}]])"));

  cni.set_pod_cidrs({"10.244.4.0/24"});
  Cni after_restart(cache.path, 5s);
  after_restart.del(nc, "abc");
  auto dels = calls("DEL");
  ASSERT_EQ(dels.size(), 4u);
  EXPECT_EQ(dels[2]["_plugin"], "two");
  EXPECT_EQ(dels[2]["runtimeConfig"]["ipRanges"][0][0]["subnet"], "10.244.3.0/24") << "the ranges of the ADD";
}

TEST_F(CniChain, StderrIsTheMessageWhenThereIsNoJsonError) {
  plugins.script("crash", "cat >/dev/null\n[ \"$CNI_COMMAND\" = ADD ] && echo 'panic: boom' >&2 && exit 2\nexit 0\n");
  config(R"({"type":"crash"})");
  Cni cni(cache.path, 5s);
  try {
    cni.add(nc, a);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("panic: boom"), std::string::npos) << e.what();
  }
}

TEST_F(CniChain, TimeoutIsDeadlineExceeded) {
  plugins.script("slow", "cat >/dev/null\n[ \"$CNI_COMMAND\" = ADD ] && exec sleep 100\nexit 0\n");
  config(R"({"type":"slow"})");
  Cni cni(cache.path, 300ms);
  try {
    cni.add(nc, a);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::deadline_exceeded) << e.what();
  }
  EXPECT_FALSE(cni.cached("abc"));
}

TEST_F(CniChain, ANewTimeoutAppliesToTheNextCall) {
  plugins.script("slow", "cat >/dev/null\n[ \"$CNI_COMMAND\" = ADD ] && exec sleep 100\nexit 0\n");
  config(R"({"type":"slow"})");
  Cni cni(cache.path, 100s);
  cni.set_timeout(300ms);  // as a reload does
  EXPECT_EQ(cni.timeout(), 300ms);
  const auto start = std::chrono::steady_clock::now();
  try {
    cni.add(nc, a);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::deadline_exceeded) << e.what();
    EXPECT_NE(std::string(e.what()).find("300ms"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST_F(CniChain, CheckFromVersion040AndNotWhenDisabled) {
  fake(plugins, "one");
  config(R"({"type":"one"})", "0.4.0");
  Cni cni(cache.path, 5s);
  cni.add(nc, a);
  cni.check(nc, "abc");
  ASSERT_EQ(calls("CHECK").size(), 1u);
  EXPECT_EQ(calls("CHECK")[0]["prevResult"]["by"], "one");
  cni.del(nc, "abc");

  config(R"({"type":"one"})", "0.3.1");
  cni.add(nc, a);
  cni.check(nc, "abc");
  EXPECT_EQ(calls("CHECK").size(), 1u) << "0.3.1 has no CHECK";
  cni.del(nc, "abc");
  auto dels = calls("DEL");
  EXPECT_FALSE(dels.back().contains("prevResult")) << "0.3.1 DEL has no prevResult";
}

}  // namespace
}  // namespace crius::cni

namespace crius::cni {
namespace {

TEST_F(CniChain, GcDeletesAttachmentsOfGonePodsAndCallsGcOn110) {
  fake(plugins, "one");
  config(R"({"type":"one"})", "1.1.0");
  Cni cni(cache.path, 5s);
  cni.add(nc, a);
  Attachment gone = a;
  gone.id = "gone";
  cni.add(nc, gone);
  cni.gc(nc, {"abc"});
  auto dels = calls("DEL");
  ASSERT_EQ(dels.size(), 1u);
  EXPECT_NE(plugins.read("log").find("DEL one IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=p1;K8S_POD_INFRA_CONTAINER_ID=gone"),
            std::string::npos);
  EXPECT_FALSE(cni.cached("gone"));
  EXPECT_TRUE(cni.cached("abc"));
  auto gcs = calls("GC");
  ASSERT_EQ(gcs.size(), 1u);
  EXPECT_EQ(gcs[0]["cni.dev/valid-attachments"], nlohmann::json::parse(R"([{"containerID":"abc","ifname":"eth0"}])"));
}

}  // namespace
}  // namespace crius::cni

namespace crius::cni {
namespace {

TEST_F(CniChain, StatusOn110DecidesReadiness) {
  plugins.script("st", "cat >/dev/null\n[ \"$CNI_COMMAND\" = STATUS ] && [ -e " + plugins.path +
                           "/down ] && echo '{\"code\":50,\"msg\":\"no IP addresses available\"}' && exit 1\nexit 0\n");
  config(R"({"type":"st"})", "1.1.0");
  {
    Cni cni(cache.path, 5s);
    EXPECT_TRUE(cni.readiness(nc).ready);
  }
  std::ofstream(plugins.path + "/down") << "";
  Cni cni(cache.path, 5s);
  auto r = cni.readiness(nc);
  EXPECT_FALSE(r.ready);
  EXPECT_NE(r.message.find("no IP addresses available"), std::string::npos) << r.message;
  config(R"({"type":"st"})", "1.0.0");
  EXPECT_TRUE(cni.readiness(nc).ready) << "no STATUS before 1.1.0";
}

}  // namespace
}  // namespace crius::cni
