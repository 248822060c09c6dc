// The daemon as kubelet and an operator meet it: start, Version, Status,
// RuntimeConfig, UNIMPLEMENTED RPCs, concurrency, signals, metrics, config.
// daemon.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/daemon.h"
//
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <regex>

namespace crius::test {
namespace {

namespace v1 = runtime::v1;
namespace fs = std::filesystem;

std::unique_ptr<grpc::ClientContext> ctx(int seconds = 10) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

TEST(Daemon, VersionNamesTheRuntime) {
  Daemon d;
  v1::VersionResponse res;
  auto status = d.runtime()->Version(ctx().get(), v1::VersionRequest(), &res);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(res.runtime_name(), "crius");
  EXPECT_EQ(res.runtime_api_version(), "v1");
  EXPECT_EQ(res.runtime_version(), run_crius({"--version"}).out.substr(std::string("crius version ").size(),
                                                                         res.runtime_version().size()));
  EXPECT_FALSE(res.runtime_version().empty());
}

TEST(Daemon, StatusReportsRuntimeAndNetworkReadiness) {
  Daemon d;
  v1::StatusRequest req;
  req.set_verbose(true);
  v1::StatusResponse res;
  ASSERT_TRUE(d.runtime()->Status(ctx().get(), req, &res).ok());
  ASSERT_EQ(res.status().conditions_size(), 2);
  EXPECT_EQ(res.status().conditions(0).type(), "RuntimeReady");
  EXPECT_TRUE(res.status().conditions(0).status());
  EXPECT_EQ(res.status().conditions(1).type(), "NetworkReady");
  EXPECT_FALSE(res.status().conditions(1).status()) << "no CNI config exists yet";
  EXPECT_EQ(res.status().conditions(1).reason(), "NetworkPluginNotReady");
  EXPECT_NE(res.status().conditions(1).message().find(d.dir() / "cni"), std::string::npos);

  // Verbose info carries the effective config as JSON.
  ASSERT_EQ(res.info().count("config"), 1u);
  const std::string& json = res.info().at("config");
  EXPECT_NE(json.find("\"root\":\"" + (d.dir() / "root") + "\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"cni_config_dir\":\"" + (d.dir() / "cni") + "\""), std::string::npos) << json;

  // A network config appearing makes the network ready, without a restart.
  write_file(d.dir() / "cni/10-bridge.conflist", R"({"cniVersion":"1.0.0","name":"pods","plugins":[{"type":"loopback"}]})");
  v1::StatusResponse again;
  ASSERT_TRUE(d.runtime()->Status(ctx().get(), v1::StatusRequest(), &again).ok());
  EXPECT_TRUE(again.status().conditions(1).status());
  EXPECT_TRUE(again.info().empty()) << "info only when verbose";
}

TEST(Daemon, RuntimeConfigReportsTheCgroupDriver) {
  for (auto [driver, expected] : {std::pair{"cgroupfs", v1::CgroupDriver::CGROUPFS},
                                  std::pair{"systemd", v1::CgroupDriver::SYSTEMD}}) {
    Daemon d({.extra_args = {"--cgroup-driver", driver}});
    v1::RuntimeConfigResponse res;
    ASSERT_TRUE(d.runtime()->RuntimeConfig(ctx().get(), v1::RuntimeConfigRequest(), &res).ok());
    EXPECT_EQ(res.linux().cgroup_driver(), expected) << driver;
  }
}

TEST(Daemon, UnbuiltRpcsAnswerUnimplementedNamingThemselves) {
  Daemon d;
  auto rt = d.runtime();
  // The checkpoint RPCs say why they cannot be built on this machine, not "not yet".
  auto expect_no_criu = [](const grpc::Status& s, const std::string& rpc) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << rpc;
    EXPECT_NE(s.error_message().find(rpc), std::string::npos) << s.error_message();
    EXPECT_NE(s.error_message().find("CRIU"), std::string::npos) << s.error_message();
    EXPECT_EQ(s.error_message().find("not implemented yet"), std::string::npos) << s.error_message();
  };
  v1::CheckpointContainerResponse checkpoint;
  expect_no_criu(rt->CheckpointContainer(ctx().get(), v1::CheckpointContainerRequest(), &checkpoint),
                 "CheckpointContainer");
  v1::CheckpointPodResponse checkpoint_pod;
  expect_no_criu(rt->CheckpointPod(ctx().get(), v1::CheckpointPodRequest(), &checkpoint_pod), "CheckpointPod");
  v1::RestorePodResponse restore;
  expect_no_criu(rt->RestorePod(ctx().get(), v1::RestorePodRequest(), &restore), "RestorePod");
}

// Slow calls run on the work pool; Version answers on gRPC's threads. The
// held CheckpointContainer calls (unbuilt, but dispatched as blocking) cannot
// finish until the test releases them, so every Version below is answered
// while they are still in progress.
TEST(Daemon, SlowRpcsDoNotHoldUpFastOnes) {
  TempDir gate;
  const std::string release = gate / "release";
  Daemon d({.env = {{"CRIUS_TEST_HOLD_RPC", "CheckpointContainer:" + release}}});

  constexpr int kSlow = 24;  // more than the work pool has threads
  std::vector<std::future<grpc::Status>> slow;
  for (int i = 0; i < kSlow; ++i)
    slow.push_back(std::async(std::launch::async, [&d] {
      v1::CheckpointContainerResponse res;
      return d.runtime()->CheckpointContainer(ctx(60).get(), v1::CheckpointContainerRequest(), &res);
    }));

  auto rt = d.runtime();
  for (int i = 0; i < 50; ++i) {
    v1::VersionResponse res;
    auto s = rt->Version(ctx().get(), v1::VersionRequest(), &res);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::StatusResponse st;
    ASSERT_TRUE(rt->Status(ctx().get(), v1::StatusRequest(), &st).ok());
  }
  for (auto& f : slow)
    EXPECT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "a held call finished early";

  write_file(release, "");
  for (auto& f : slow) {
    auto s = f.get();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << s.error_message();
  }
}

// SIGTERM with kubelet's connection open and a call in flight: the call in
// flight is answered (not cancelled), calls made after the signal are
// refused with Unavailable, and the daemon stops once the call is answered,
// within its grace (gRPC alone waits out the whole grace while any client
// keeps a connection open).
TEST(Daemon, SigtermAnswersTheCallsInFlightAndRefusesNewOnes) {
  TempDir gate;
  const std::string release = gate / "release";
  Daemon d({.env = {{"CRIUS_TEST_HOLD_RPC", "CheckpointContainer:" + release}}});
  auto rt = d.runtime();
  v1::VersionResponse version;
  ASSERT_TRUE(rt->Version(ctx().get(), v1::VersionRequest(), &version).ok());
  auto held = std::async(std::launch::async, [&d] {
    v1::CheckpointContainerResponse res;
    return d.runtime()->CheckpointContainer(ctx(60).get(), v1::CheckpointContainerRequest(), &res);
  });
  ASSERT_TRUE(d.wait_for_log("test hook: holding a call"));

  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  ASSERT_TRUE(d.wait_for_log("shutting down"));
  auto s = rt->Version(ctx().get(), v1::VersionRequest(), &version);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(held.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "the held call ended early";

  write_file(release, "");
  s = held.get();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << "answered, not cancelled: " << s.error_message();
  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
  EXPECT_EQ(d.log().find("still running after the shutdown grace"), std::string::npos) << d.log();
  EXPECT_FALSE(fs::exists(d.socket()));
}

TEST(Daemon, SocketIsPrivateAndASecondDaemonIsRefused) {
  Daemon first;
  struct stat st {};
  ASSERT_EQ(::stat(first.socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  auto args = first.args();
  args.erase(args.begin());
  // Another metrics port, so only the socket is contended.
  args.back() = "127.0.0.1:" + std::to_string(free_tcp_port());
  auto second = run_crius(args);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already serving " + first.socket()), std::string::npos) << second.err;

  // The first one is unharmed.
  v1::VersionResponse res;
  EXPECT_TRUE(first.runtime()->Version(ctx().get(), v1::VersionRequest(), &res).ok());
}

TEST(Daemon, StaleSocketOfADeadDaemonIsReplaced) {
  TempDir dir;
  // A socket file with nobody listening, as a killed daemon leaves behind.
  const std::string path = dir / "crius.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  ASSERT_TRUE(fs::exists(path));

  Daemon d({.extra_args = {"--listen", path}});
  auto ch = grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials());
  v1::VersionResponse res;
  EXPECT_TRUE(v1::RuntimeService::NewStub(ch)->Version(ctx().get(), v1::VersionRequest(), &res).ok());
  EXPECT_TRUE(d.wait_for_log("removed stale socket"));
}

TEST(Daemon, SigtermStopsCleanlyAndRemovesTheSocket) {
  for (int sig : {SIGTERM, SIGINT}) {
    Daemon d;
    ASSERT_TRUE(fs::exists(d.socket()));
    EXPECT_EQ(d.stop(sig), 0) << d.log();
    EXPECT_FALSE(fs::exists(d.socket()));
    EXPECT_NE(d.log().find("stopped"), std::string::npos);
  }
}

TEST(Daemon, SighupReloadsTheLogLevel) {
  Daemon d({.config_yaml = "log_level: info\n"});
  v1::VersionResponse res;
  ASSERT_TRUE(d.runtime()->Version(ctx().get(), v1::VersionRequest(), &res).ok());
  EXPECT_EQ(d.log().find("rpc=Version"), std::string::npos) << "RPCs are logged at debug only";

  write_file(d.dir() / "crius.yaml", "log_level: debug\n");
  ::kill(d.pid(), SIGHUP);
  ASSERT_TRUE(d.wait_for_log("config reloaded"));
  ASSERT_TRUE(d.runtime()->Version(ctx().get(), v1::VersionRequest(), &res).ok());
  EXPECT_TRUE(d.wait_for_log("rpc=Version"));
  EXPECT_TRUE(std::regex_search(d.log(), std::regex("level=debug msg=rpc rpc=Version duration=[0-9.]+ms code=OK")))
      << d.log();

  // A broken file on reload is reported and the daemon keeps serving.
  write_file(d.dir() / "crius.yaml", "log_level: loud\n");
  ::kill(d.pid(), SIGHUP);
  ASSERT_TRUE(d.wait_for_log("config reload failed"));
  EXPECT_TRUE(d.runtime()->Version(ctx().get(), v1::VersionRequest(), &res).ok());
  EXPECT_TRUE(d.running());
}

TEST(Daemon, MetricsCountEveryCall) {
  Daemon d;
  auto rt = d.runtime();
  for (int i = 0; i < 3; ++i) {
    v1::VersionResponse res;
    ASSERT_TRUE(rt->Version(ctx().get(), v1::VersionRequest(), &res).ok());
  }
  v1::CheckpointContainerResponse checkpoint;
  EXPECT_FALSE(rt->CheckpointContainer(ctx().get(), v1::CheckpointContainerRequest(), &checkpoint).ok());

  const std::string body = http_get(d.metrics_address(), "/metrics");
  EXPECT_NE(body.find("200 OK"), std::string::npos) << body;
  EXPECT_NE(body.find("crius_operations_total{operation=\"Version\"} 3\n"), std::string::npos) << body;
  EXPECT_NE(body.find("crius_operations_total{operation=\"CheckpointContainer\"} 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("crius_operations_errors_total{operation=\"CheckpointContainer\",code=\"Unimplemented\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("crius_operations_errors_total{operation=\"Version\""), std::string::npos) << body;
  EXPECT_NE(body.find("crius_operations_latency_seconds_count{operation=\"Version\"} 3\n"), std::string::npos) << body;
  EXPECT_NE(body.find("crius_operations_latency_seconds_bucket{operation=\"Version\",le=\"+Inf\"} 3\n"),
            std::string::npos)
      << body;
  EXPECT_TRUE(std::regex_search(body, std::regex("crius_build_info\\{version=\"[0-9.]+\"\\} 1\n"))) << body;

  EXPECT_NE(http_get(d.metrics_address(), "/nothing").find("404"), std::string::npos);
}

TEST(Daemon, MetricsCanBeDisabled) {
  Daemon d({.config_yaml = "metrics:\n  enabled: false\n"});
  EXPECT_EQ(http_get(d.metrics_address(), "/metrics"), "");
  EXPECT_TRUE(d.wait_for_log("metrics=disabled"));
}

TEST(Daemon, BadConfigIsRefusedNamingFileAndKey) {
  TempDir dir;
  write_file(dir / "crius.yaml", "network:\n  cni_dirs: [/x]\n");
  auto r = run_crius({"--config", dir / "crius.yaml", "--state", dir / "state", "--root", dir / "root"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir / "crius.yaml"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("network.cni_dirs"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "state/crius.sock"));

  write_file(dir / "crius.yaml", "image:\n  max_parallel_layers: many\n");
  r = run_crius({"--config", dir / "crius.yaml", "--state", dir / "state", "--root", dir / "root"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("image.max_parallel_layers"), std::string::npos) << r.err;

  write_file(dir / "crius.d/50-driver.yaml", "cgroup_driver: cgroupv3\n");
  write_file(dir / "crius.yaml", "");
  r = run_crius({"--config", dir / "crius.yaml", "--state", dir / "state", "--root", dir / "root"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cgroup_driver"), std::string::npos) << r.err;
}

TEST(Daemon, ConfigCommandPrintsTheEffectiveConfig) {
  TempDir dir;
  write_file(dir / "crius.yaml", "log_level: warn\n");
  write_file(dir / "crius.d/10-net.yaml", "network:\n  cni_config_dir: /srv/cni\n");
  auto r = run_crius({"config", "--config", dir / "crius.yaml", "--root", "/srv/crius"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("root: /srv/crius"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("log_level: warn"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cni_config_dir: /srv/cni"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("listen: /run/crius/crius.sock"), std::string::npos) << r.out;
}

TEST(Daemon, HelpAndVersion) {
  auto help = run_crius({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--config", "--root", "--state", "--listen", "--log-level", "--cgroup-driver",
                           "--metrics-address", "--streaming-port", "--runtime-default-handler"})
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  auto version = run_crius({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("crius version ", 0), 0u) << version.out;
  auto bad = run_crius({"--no-such-flag"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--no-such-flag"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace crius::test
