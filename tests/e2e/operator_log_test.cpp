// The daemon's log as an operator follows it (issue 20): every pod and
// container state change at info, named by namespace/name and container
// name beside the IDs, also when no RPC caused it (a container exiting on
// its own); every RPC error at info with the pod and container it was about;
// and the same lines as JSON objects with --log-format json.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::test {
namespace {

using nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first logfmt line holding every one of `parts`, "" when none does.
std::string line_with_all(const std::string& log, const std::vector<std::string>& parts) {
  for (const auto& line : lines_of(log)) {
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return line;
  }
  return "";
}

// The first JSON line whose msg is `msg` and whose fields include `fields`.
json object_with(const std::string& log, const std::string& msg, const json& fields) {
  for (const auto& line : lines_of(log)) {
    json o = json::parse(line, nullptr, false);
    if (o.is_discarded() || o.value("msg", "") != msg) continue;
    bool all = true;
    for (const auto& [k, v] : fields.items()) all = all && o.contains(k) && o[k] == v;
    if (all) return o;
  }
  return nullptr;
}

TEST(OperatorLog, StateChangesAndRpcErrorsNameThePodAndContainer) {
  ContainerEnv env;
  v1::PodSandboxConfig pod_cfg = pod_config("log-web");
  const std::string pod = env.run_pod(pod_cfg);
  const std::string ns_name = "crius-test/log-web";
  // It exits by itself: the exit is learnt outside any RPC.
  const std::string ctr = env.create(pod, container_config("app", env.image, {"sh", "-c", "exit 3"}));
  ASSERT_TRUE(wait_state(env.daemon, ctr, v1::CONTAINER_EXITED));
  ASSERT_TRUE(env.daemon.wait_for_log("msg=\"container exited\""));

  // Two client errors: a second start, and the same pod again.
  EXPECT_EQ(start_container(env.daemon, ctr).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::RunPodSandboxRequest again;
  *again.mutable_config() = env.pods.at(pod);
  v1::RunPodSandboxResponse again_res;
  EXPECT_EQ(env.daemon.runtime()->RunPodSandbox(deadline_ctx(60).get(), again, &again_res).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  ASSERT_TRUE(remove_container(env.daemon, ctr).ok());
  ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  ASSERT_TRUE(env.daemon.wait_for_log("msg=\"pod sandbox removed\""));
  const std::string log = env.daemon.log();

  const std::string pod_fields = " pod_id=" + pod + " pod=" + ns_name;
  const std::string ctr_fields = " container_id=" + ctr + " container=app";
  for (const char* msg : {"pod sandbox running", "pod sandbox stopped", "pod sandbox removed"})
    EXPECT_NE(line_with_all(log, {"level=info msg=\"" + std::string(msg) + "\"", pod_fields}), "") << msg << "\n" << log;
  for (const char* msg : {"container created", "container started", "container exited", "container removed"})
    EXPECT_NE(line_with_all(log, {"level=info msg=\"" + std::string(msg) + "\"", ctr_fields, pod_fields}), "")
        << msg << "\n" << log;
  EXPECT_NE(line_with_all(log, {"msg=\"container started\"", ctr_fields, " pid="}), "") << log;
  EXPECT_NE(line_with_all(log, {"msg=\"container exited\"", ctr_fields, " exit_code=3", " reason=Error"}), "") << log;

  // The errors, at info, each naming what it was about.
  const std::string start_error =
      line_with_all(log, {"level=info msg=rpc rpc=StartContainer", "code=FailedPrecondition", ctr_fields, pod_fields});
  EXPECT_NE(start_error, "") << log;
  EXPECT_NE(start_error.find("error=\""), std::string::npos) << start_error;
  EXPECT_NE(line_with_all(log, {"level=info msg=rpc rpc=RunPodSandbox", "code=AlreadyExists", " pod=" + ns_name}), "")
      << log;
  // Each name once on a line, though both the RPC and the change named it.
  for (const auto& line : lines_of(log)) {
    const size_t first = line.find(" pod=");
    if (first != std::string::npos) {
      EXPECT_EQ(line.find(" pod=", first + 1), std::string::npos) << line;
    }
  }
}

TEST(OperatorLog, JsonFormatCarriesTheSameFieldsAndReloadsBack) {
  ContainerEnv env;
  ASSERT_TRUE(env.daemon.reload("log_format: json\n"));
  const std::string pod = env.run_pod("log-json");
  const std::string ctr = env.create(pod, container_config("app", env.image, {"sleep", "3600"}));
  ASSERT_TRUE(stop_container(env.daemon, ctr, 0).ok());
  grpc::Status st;
  container_status(env.daemon, std::string(64, 'f'), &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(env.daemon.wait_for_log("\"msg\":\"rpc\""));

  // Every line after the switch is one JSON object with time, level and msg first.
  std::string log = env.daemon.log();
  const size_t from = log.find("\n{");
  ASSERT_NE(from, std::string::npos) << log;
  const std::string json_part = log.substr(from + 1);
  size_t objects = 0;
  for (const auto& line : lines_of(json_part)) {
    json o = json::parse(line, nullptr, false);
    ASSERT_FALSE(o.is_discarded()) << line;
    ASSERT_TRUE(o.is_object()) << line;
    EXPECT_EQ(line.rfind("{\"time\":\"", 0), 0u) << line;
    EXPECT_TRUE(o["level"].is_string() && o["msg"].is_string()) << line;
    ++objects;
  }
  EXPECT_GT(objects, 3u);
  const json pod_fields = {{"pod_id", pod}, {"pod", "crius-test/log-json"}};
  json fields = pod_fields;
  fields["container_id"] = ctr;
  fields["container"] = "app";
  EXPECT_FALSE(object_with(json_part, "pod sandbox running", pod_fields).is_null()) << json_part;
  EXPECT_FALSE(object_with(json_part, "container started", fields).is_null()) << json_part;
  const json exited = object_with(json_part, "container exited", fields);
  ASSERT_FALSE(exited.is_null()) << json_part;
  EXPECT_EQ(exited["exit_code"], "137") << exited.dump();
  EXPECT_EQ(exited["level"], "info");
  const json not_found = object_with(json_part, "rpc", {{"rpc", "ContainerStatus"}, {"code", "NotFound"}});
  ASSERT_FALSE(not_found.is_null()) << json_part;
  EXPECT_EQ(not_found["level"], "info");
  EXPECT_NE(not_found["error"].get<std::string>().find(std::string(64, 'f')), std::string::npos) << not_found.dump();

  // Back to logfmt on the next reload, from its own "config reloaded" line on.
  ASSERT_TRUE(env.daemon.reload("log_format: logfmt\n"));
  ASSERT_TRUE(remove_container(env.daemon, ctr).ok());
  ASSERT_TRUE(env.daemon.wait_for_log("level=info msg=\"container removed\" container_id=" + ctr));
}

}  // namespace
}  // namespace crius::test
