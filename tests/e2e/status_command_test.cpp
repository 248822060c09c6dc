// `crius status`: the real crius binary run as an operator runs it, asking a
// test daemon over its socket; what it prints checked against the daemon's
// own answers and the host (live pids, cgroup dirs, mounts).
// conformance_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/conformance_helpers.h"
//
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// `crius status <args…> --socket <socket>`.
CommandResult status(const std::string& socket, std::vector<std::string> args) {
  args.insert(args.begin(), "status");
  args.push_back("--socket");
  args.push_back(socket);
  return run_crius(args);
}

// The same with --json; fails the test when it does not print one JSON document.
json status_json(const std::string& socket, std::vector<std::string> args) {
  args.push_back("--json");
  CommandResult r = status(socket, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << r.out;
  return doc;
}

// The output line that holds `needle`, "" when none does.
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

bool alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

TEST(StatusCommand, ShowsTheRunningPodAndContainerWithTheirHostDetails) {
  ContainerEnv env;
  const std::string pod = env.run_pod("status-web");
  const std::string ctr = env.create(pod, container_config("app", env.image, {"sleep", "3600"}));
  const std::string sock = env.daemon.socket();

  // The tables: one line each, with the short ID and the state.
  CommandResult r = status(sock, {"containers"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string ctr_line = line_with(r.out, ctr.substr(0, 13));
  EXPECT_NE(ctr_line.find("running"), std::string::npos) << r.out;
  EXPECT_NE(ctr_line.find("app"), std::string::npos) << r.out;
  EXPECT_NE(ctr_line.find("status-web"), std::string::npos) << r.out;
  r = status(sock, {"pods"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string pod_line = line_with(r.out, pod.substr(0, 13));
  EXPECT_NE(pod_line.find("status-web"), std::string::npos) << r.out;
  EXPECT_NE(pod_line.find("ready"), std::string::npos) << r.out;
  EXPECT_EQ(pod_line.find("notready"), std::string::npos) << r.out;

  json list = status_json(sock, {"containers"});
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["id"], ctr);
  EXPECT_EQ(list[0]["state"], "running");
  EXPECT_EQ(list[0]["podId"], pod);
  list = status_json(sock, {"pods"});
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["id"], pod);
  EXPECT_EQ(list[0]["state"], "ready");
  EXPECT_EQ(list[0]["containers"], 1);

  // One container by a prefix of its ID, as crictl takes it.
  const json c = status_json(sock, {"containers", ctr.substr(0, 10)});
  EXPECT_EQ(c["id"], ctr);
  EXPECT_EQ(c["state"], "running");
  const int monitor = c.value("monitorPid", 0);
  EXPECT_TRUE(alive(monitor)) << c.dump();
  EXPECT_EQ(monitors_of(pod), std::vector<int>{monitor});
  const int pid = c.value("pid", 0);
  EXPECT_TRUE(alive(pid));
  const std::string cgroup = c.value("cgroupPath", "");
  ASSERT_FALSE(cgroup.empty()) << c.dump();
  EXPECT_TRUE(fs::is_directory(cgroup)) << cgroup;
  // The container's init is in that cgroup (its procs file lists it).
  std::ifstream procs(cgroup + "/cgroup.procs");
  std::vector<int> in_cgroup;
  for (int p; procs >> p;) in_cgroup.push_back(p);
  EXPECT_NE(std::find(in_cgroup.begin(), in_cgroup.end(), pid), in_cgroup.end()) << cgroup;
  ASSERT_TRUE(c["rootfsMount"].is_object()) << c.dump();
  EXPECT_EQ(c["rootfsMount"]["type"], "overlay");
  EXPECT_EQ(c["rootfsMount"]["target"], c["rootfs"]);
  EXPECT_TRUE(is_mount_point(c["rootfs"].get<std::string>()));
  ASSERT_TRUE(c["podNamespaces"].contains("net")) << c.dump();
  EXPECT_TRUE(fs::exists(c["podNamespaces"]["net"].get<std::string>()));
  EXPECT_TRUE(c["info"].contains("runtimeSpec"));  // the daemon's whole verbose info

  r = status(sock, {"containers", ctr});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_with(r.out, "Monitor PID:").find(std::to_string(monitor)), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "Cgroup:").find(cgroup), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "State:").find("running"), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "Rootfs:").find("overlay"), std::string::npos) << r.out;

  // The pod: its pinned namespaces, IP, monitor.
  const json p = status_json(sock, {"pods", pod.substr(0, 12)});
  EXPECT_EQ(p["id"], pod);
  EXPECT_EQ(p["state"], "ready");
  EXPECT_EQ(p.value("monitorPid", 0), monitor);
  ASSERT_TRUE(p["namespaces"].contains("net")) << p.dump();
  EXPECT_TRUE(fs::exists(p["namespaces"]["net"].get<std::string>()));
  ASSERT_FALSE(p["ips"].empty()) << p.dump();
  EXPECT_EQ(p["ips"][0].get<std::string>().rfind(env.net.subnet_prefix, 0), 0u) << p.dump();
  EXPECT_EQ(p["network"], "crius-test-" + env.net.bridge);
  if (!p.value("cgroupPath", "").empty()) {
    EXPECT_TRUE(fs::is_directory(p["cgroupPath"].get<std::string>())) << p.dump();
  }
  r = status(sock, {"pods", pod});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_with(r.out, "Monitor PID:").find(std::to_string(monitor)), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "IPs:").find(env.net.subnet_prefix), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "Namespaces:").find("net "), std::string::npos) << r.out;

  // The node: counts by state, the CNI network, storage, handlers.
  const json info = status_json(sock, {"info"});
  EXPECT_EQ(info["version"]["runtimeName"], "crius");
  EXPECT_EQ(info["pods"]["ready"], 1);
  EXPECT_EQ(info["containers"]["running"], 1);
  EXPECT_EQ(info["network"]["network"], "crius-test-" + env.net.bridge);
  EXPECT_EQ(info["network"]["ready"], true);
  EXPECT_EQ(info["storage"]["root"], env.daemon.dir() / "root");
  EXPECT_FALSE(info["storage"]["imageFilesystems"].empty());
  EXPECT_FALSE(info["cgroup"].value("hierarchy", "").empty()) << info.dump();
  EXPECT_FALSE(info["runtimeHandlers"].empty());
  r = status(sock, {"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_with(r.out, "Containers:").find("running 1"), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "CNI network:").find("crius-test-" + env.net.bridge), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "Storage root:").find(env.daemon.dir() / "root"), std::string::npos) << r.out;

  // The image it pulled, by tag, with its size.
  const json images = status_json(sock, {"images"});
  ASSERT_EQ(images.size(), 1u) << images.dump();
  EXPECT_EQ(images[0]["repoTags"][0], env.image);
  EXPECT_GT(images[0].value("size", 0), 0);
  r = status(sock, {"images"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_with(r.out, env.image).find("iB"), std::string::npos) << r.out;  // "1.0 MiB", "980.2 KiB"

  // A stopped container shows as exited, with no cgroup.
  ASSERT_TRUE(stop_container(env.daemon, ctr, 0).ok());
  const json stopped = status_json(sock, {"containers", ctr});
  EXPECT_EQ(stopped["state"], "exited");
  EXPECT_EQ(stopped["cgroupPath"], "");

  // An ID nobody has.
  const std::string unknown = unknown_id();
  r = status(sock, {"containers", unknown});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(unknown), std::string::npos) << r.err;
  r = status(sock, {"pods", unknown});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no pod"), std::string::npos) << r.err;
}

TEST(StatusCommand, ConfigIsTheDaemonsLiveConfigAfterAReload) {
  Daemon d({.config_yaml = "runtime:\n  pids_limit: 1111\n"});
  // The client reads a config of its own that says something else.
  TempDir client;
  write_file(client / "crius.yaml", "runtime:\n  pids_limit: 7\n");
  auto config = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--config", client / "crius.yaml"});
    return args;
  };
  EXPECT_EQ(status_json(d.socket(), config({"config"}))["runtime"]["pids_limit"], 1111);

  write_file(d.dir() / "crius.yaml", "runtime:\n  pids_limit: 4321\n");
  ::kill(d.pid(), SIGHUP);
  ASSERT_TRUE(d.wait_for_log("config reloaded"));
  const json live = status_json(d.socket(), config({"config"}));
  EXPECT_EQ(live["runtime"]["pids_limit"], 4321);
  EXPECT_EQ(live["root"], d.dir() / "root");
  CommandResult r = status(d.socket(), config({"config"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  pids_limit: 4321\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("root: " + d.dir() / "root" + "\n"), std::string::npos) << r.out;

  // Without --socket, the socket is the config's: here from --state, as the daemon takes it.
  r = run_crius({"status", "info", "--config", client / "crius.yaml", "--state", d.dir() / "state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_with(r.out, "Socket:").find(d.socket()), std::string::npos) << r.out;
}

TEST(StatusCommand, AStoppedDaemonIsOneLineNamingTheSocket) {
  Daemon d;
  const std::string sock = d.socket();
  ASSERT_EQ(d.stop(), 0);
  for (const char* sub : {"info", "containers", "config"}) {
    CommandResult r = status(sock, {sub});
    EXPECT_EQ(r.exit_code, 1) << sub;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(sock), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(StatusCommand, BadCommandLinesExitTwo) {
  TempDir dir;
  const std::string sock = dir / "none.sock";
  CommandResult r = status(sock, {"nodes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nodes: unknown subcommand"), std::string::npos) << r.err;
  r = run_crius({"status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing subcommand"), std::string::npos) << r.err;
  r = status(sock, {"images", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  r = status(sock, {"info", "--no-such-flag", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
  r = run_crius({"status", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("containers [ID]"), std::string::npos);
  r = run_crius({"--help"});
  EXPECT_NE(r.out.find("status"), std::string::npos);
}

}  // namespace
}  // namespace crius::test
