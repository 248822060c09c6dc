// CDI device injection: a vendor's spec file in a private spec directory
// (runtime.cdi_spec_dirs) brings a device node, an env var and a mount into
// the containers that ask for the device, by ContainerConfig.CDI_devices or
// by a cdi.k8s.io/ annotation as older kubelets send it. A bad spec file
// beside it is reported by Status and spoils nothing; an unknown device
// fails CreateContainer and leaves nothing; a spec file written while the
// daemon runs is used without a restart.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace crius::test {
namespace {

// A host directory with a /dev/null twin (char 1:3) and a directory to
// mount, and a CDI spec directory with crius.test/dev=devnull in it.
struct CdiHost {
  CdiHost() {
    const std::string node = host / "cdi-null";
    if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
      throw std::runtime_error("mknod " + node + ": " + std::strerror(errno));
    ::chmod(node.c_str(), 0666);
    ::mkdir((host / "share").c_str(), 0755);
    write_file(host / "share/hello.txt", "from the CDI mount\n");
    write_file(specs / "crius-test.yaml", "---\n"
                                          "cdiVersion: 0.5.0\n"
                                          "kind: crius.test/dev\n"
                                          "devices:\n"
                                          "  - name: devnull\n"
                                          "    containerEdits:\n"
                                          "      deviceNodes:\n"
                                          "        - path: /dev/cdi-null\n"
                                          "          hostPath: " + node + "\n"
                                          "containerEdits:\n"
                                          "  env: [CDI_TEST=injected]\n"
                                          "  mounts:\n"
                                          "    - hostPath: " + host / "share" + "\n"
                                          "      containerPath: /cdi-share\n"
                                          "      options: [ro, bind]\n");
    // Its cdiVersion says 0.3.0 but it uses a mount type (0.4.0).
    write_file(specs / "broken.json",
               R"({"cdiVersion": "0.3.0", "kind": "crius.test/other", "devices": [{"name": "x", "containerEdits":)"
               R"( {"mounts": [{"hostPath": "/tmp", "containerPath": "/x", "type": "bind"}]}}]})");
  }
  std::vector<std::string> args() const { return {"--runtime-cdi-spec-dirs", specs.path()}; }

  TempDir host, specs;
};

v1::ContainerConfig sleeper(const std::string& name, const std::string& image) {
  return container_config(name, image, {"sleep", "3600"});
}

std::string exec_out(Daemon& d, const std::string& id, const std::string& script) {
  auto r = exec_sync(d, id, {"sh", "-c", script});
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.exit_code, 0) << script << ": " << r.out << r.err;
  return r.out;
}

// What the device brings, seen from inside the container.
void expect_device_injected(Daemon& d, const std::string& id) {
  EXPECT_EQ(exec_out(d, id, "stat -c '%F %t:%T' /dev/cdi-null"), "character special file 1:3\n");
  EXPECT_EQ(exec_out(d, id, "echo written > /dev/cdi-null && echo ok"), "ok\n");
  EXPECT_EQ(exec_out(d, id, "echo $CDI_TEST"), "injected\n");
  EXPECT_EQ(exec_out(d, id, "cat /cdi-share/hello.txt"), "from the CDI mount\n");
  // The mount is read-only as the spec says.
  auto w = exec_sync(d, id, {"sh", "-c", "echo x > /cdi-share/new"});
  EXPECT_NE(w.exit_code, 0) << "wrote into a read-only CDI mount";
  // The device cgroup rule that lets it be used is in the spec.
  const auto spec = container_info(d, id)["runtimeSpec"];
  bool allowed = false;
  for (const auto& r : spec["linux"]["resources"]["devices"])
    allowed |= r.value("allow", false) && r.value("type", "") == "c" && r.value("major", -1) == 1 &&
               r.value("minor", -1) == 3 && r.value("access", "") == "rwm";
  EXPECT_TRUE(allowed) << spec["linux"]["resources"]["devices"].dump();
}

nlohmann::json cdi_status(Daemon& d) {
  v1::StatusRequest req;
  req.set_verbose(true);
  v1::StatusResponse res;
  EXPECT_TRUE(d.runtime()->Status(deadline_ctx().get(), req, &res).ok());
  if (!res.info().count("cdi")) return nlohmann::json::object();
  return nlohmann::json::parse(res.info().at("cdi"));
}

bool lists_device(const nlohmann::json& status, const std::string& name) {
  for (const auto& d : status["devices"])
    if (d["name"] == name) return true;
  return false;
}

TEST(Cdi, ADeviceIsInjectedByFieldAndByAnnotation) {
  CdiHost cdi;
  ContainerEnv env(cdi.args());
  const std::string pod = env.run_pod("cdi");

  auto by_field = sleeper("by-field", env.image);
  by_field.add_cdi_devices()->set_name("crius.test/dev=devnull");
  const std::string a = env.create(pod, by_field);
  expect_device_injected(env.daemon, a);

  auto by_annotation = sleeper("by-annotation", env.image);
  (*by_annotation.mutable_annotations())["cdi.k8s.io/crius-test_null"] = "crius.test/dev=devnull";
  const std::string b = env.create(pod, by_annotation);
  expect_device_injected(env.daemon, b);

  // A container that asks for nothing gets nothing.
  const std::string c = env.create(pod, sleeper("plain", env.image));
  auto r = exec_sync(env.daemon, c, {"sh", "-c", "test -e /dev/cdi-null || test -n \"$CDI_TEST\" || test -d /cdi-share"});
  EXPECT_NE(r.exit_code, 0) << "a container without CDI devices got some of the edits";
}

TEST(Cdi, StatusListsTheDevicesAndTheBadSpecFile) {
  CdiHost cdi;
  ContainerEnv env(cdi.args());
  const auto status = cdi_status(env.daemon);
  EXPECT_EQ(status["specDirs"], nlohmann::json({cdi.specs.path()})) << status.dump();
  EXPECT_TRUE(lists_device(status, "crius.test/dev=devnull")) << status.dump();
  EXPECT_FALSE(lists_device(status, "crius.test/other=x")) << status.dump();
  ASSERT_EQ(status["specErrors"].size(), 1u) << status.dump();
  EXPECT_EQ(status["specErrors"][0]["path"], cdi.specs / "broken.json");
  EXPECT_NE(status["specErrors"][0]["error"].get<std::string>().find("needs cdiVersion 0.4.0"), std::string::npos)
      << status.dump();
}

TEST(Cdi, AnUnknownDeviceFailsCreateAndLeavesNothing) {
  CdiHost cdi;
  ContainerEnv env(cdi.args());
  const std::string pod = env.run_pod("cdi-unknown");
  // One container first: the layers' short links its rootfs makes stay, and
  // are not what a refusal must not leave.
  ASSERT_TRUE(remove_container(env.daemon, env.create(pod, sleeper("first", env.image), false)).ok());
  const auto before = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);

  auto c = sleeper("unknown", env.image);
  c.add_cdi_devices()->set_name("crius.test/dev=devnull");
  c.add_cdi_devices()->set_name("crius.test/dev=absent");
  std::string id;
  auto s = create_container(env.daemon, pod, c, env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_NE(s.error_message().find("crius.test/dev=absent"), std::string::npos) << s.error_message();
  EXPECT_EQ(container_count(env.daemon), 0u);

  // A name that is not fully qualified, in an annotation.
  auto bad = sleeper("malformed", env.image);
  (*bad.mutable_annotations())["cdi.k8s.io/x"] = "absent";
  s = create_container(env.daemon, pod, bad, env.pods[pod], &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("annotation cdi.k8s.io/x"), std::string::npos) << s.error_message();
  EXPECT_EQ(container_count(env.daemon), 0u);

  const auto after = snapshot(env.daemon.dir().path(), env.net.bridge, env.net.bridge);
  EXPECT_TRUE(before == after) << describe_difference(before, after);
  // The name is free again.
  c.clear_cdi_devices();
  c.add_cdi_devices()->set_name("crius.test/dev=devnull");
  env.create(pod, c, false);
  EXPECT_EQ(container_count(env.daemon), 1u);
}

TEST(Cdi, ASpecFileWrittenWhileRunningIsUsed) {
  CdiHost cdi;
  ContainerEnv env(cdi.args());
  const std::string pod = env.run_pod("cdi-late");
  EXPECT_FALSE(lists_device(cdi_status(env.daemon), "crius.test/late=one"));

  write_file(cdi.specs / "late.json",
             R"({"cdiVersion": "0.8.0", "kind": "crius.test/late", "devices": [{"name": "one", "containerEdits":)"
             R"( {"env": ["LATE=seen"], "additionalGids": [4242]}}]})");
  EXPECT_TRUE(lists_device(cdi_status(env.daemon), "crius.test/late=one"));
  auto c = sleeper("late", env.image);
  c.add_cdi_devices()->set_name("crius.test/late=one");
  const std::string id = env.create(pod, c);
  EXPECT_EQ(exec_out(env.daemon, id, "echo $LATE"), "seen\n");
  // Its additional GID is the process's, and ContainerStatus says so.
  EXPECT_NE((" " + exec_out(env.daemon, id, "id -G")).find(" 4242"), std::string::npos);
  const auto groups = container_status(env.daemon, id).status().user().linux().supplemental_groups();
  EXPECT_NE(std::find(groups.begin(), groups.end(), 4242), groups.end());
}

TEST(Cdi, TheDaemonRunsWithoutAnyCdiDirectory) {
  TempDir missing;
  ContainerEnv env({"--runtime-cdi-spec-dirs", missing / "does/not/exist"});
  const std::string pod = env.run_pod("cdi-none");
  const auto status = cdi_status(env.daemon);
  EXPECT_TRUE(status["devices"].empty()) << status.dump();
  EXPECT_TRUE(status["specErrors"].empty()) << status.dump();
  env.create(pod, sleeper("plain", env.image));
  auto c = sleeper("asks", env.image);
  c.add_cdi_devices()->set_name("crius.test/dev=devnull");
  std::string id;
  EXPECT_EQ(create_container(env.daemon, pod, c, env.pods[pod], &id).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace crius::test
