#include "tests/e2e/container_helpers.h"
//
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"
#include "tests/support/eventually.h"

namespace crius::test {
namespace fs = std::filesystem;

// One registry with the busybox image for the whole test binary, stopped
// when the binary exits (static destruction).
const std::string& busybox_image() {
  static fixtures::Registry registry;
  static const std::string ref = [] {
    fixtures::push_image(registry, "test/busybox", "latest", {fixtures::busybox_layer()},
                         {.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}});
    return registry.host() + "/test/busybox:latest";
  }();
  return ref;
}

namespace {

std::vector<std::string> with_plugin_dirs(std::vector<std::string> args) {
  args.insert(args.begin(), {"--network-cni-plugin-dirs", "/usr/lib/cni"});
  return args;
}

}  // namespace

ContainerEnv::ContainerEnv(std::vector<std::string> args, std::map<std::string, std::string> env,
                           bool hide_cgroup_v2_controllers)
    : daemon(DaemonOptions{.extra_args = with_plugin_dirs(std::move(args)),
                           .env = std::move(env),
                           .hide_cgroup_v2_controllers = hide_cgroup_v2_controllers}),
      image(busybox_image()) {
  write_file(daemon.dir() / "cni/10-test.conflist", net.conflist());
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image);
  v1::PullImageResponse res;
  auto s = daemon.image()->PullImage(deadline_ctx(90).get(), req, &res);
  if (!s.ok()) throw std::runtime_error("pulling " + image + ": " + s.error_message());
}

ContainerEnv::~ContainerEnv() {
  if (!daemon.running()) return;
  // The pods it made, and any other the daemon lists (a list too large for
  // one message fails: the pods made here still go).
  std::set<std::string> ids;
  for (const auto& [id, config] : pods) ids.insert(id);
  v1::ListPodSandboxResponse res;
  if (daemon.runtime()->ListPodSandbox(deadline_ctx().get(), v1::ListPodSandboxRequest(), &res).ok())
    for (const auto& p : res.items()) ids.insert(p.id());
  for (const auto& id : ids) remove_pod(daemon, id);
}

std::string ContainerEnv::run_pod(v1::PodSandboxConfig config) {
  config.set_log_directory(daemon.dir() / ("logs/" + config.metadata().name()));
  std::string id;
  auto s = crius::test::run_pod(daemon, config, &id);
  if (!s.ok()) throw std::runtime_error("RunPodSandbox: " + s.error_message());
  pods[id] = config;
  return id;
}

std::string ContainerEnv::create(const std::string& pod_id, const v1::ContainerConfig& config, bool start) {
  std::string id;
  auto s = create_container(daemon, pod_id, config, pods.at(pod_id), &id);
  if (!s.ok()) throw std::runtime_error("CreateContainer: " + s.error_message());
  if (start) {
    s = start_container(daemon, id);
    if (!s.ok()) throw std::runtime_error("StartContainer: " + s.error_message());
  }
  return id;
}

v1::ContainerConfig container_config(const std::string& name, const std::string& image,
                                     const std::vector<std::string>& cmd) {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_image()->set_image(image);
  for (const auto& a : cmd) c.add_command(a);
  c.set_log_path(name + "/0.log");
  // As kubelet sends them for a pod without shareProcessNamespace.
  auto* ns = c.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::POD);
  ns->set_ipc(v1::POD);
  ns->set_pid(v1::CONTAINER);
  (*c.mutable_labels())["container"] = name;
  (*c.mutable_annotations())["note"] = "made by the crius e2e tests";
  return c;
}

grpc::Status create_container(Daemon& d, const std::string& pod_id, const v1::ContainerConfig& c,
                              const v1::PodSandboxConfig& pod, std::string* id) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod_id);
  *req.mutable_config() = c;
  *req.mutable_sandbox_config() = pod;
  v1::CreateContainerResponse res;
  auto s = d.runtime()->CreateContainer(deadline_ctx(60).get(), req, &res);
  if (id) *id = res.container_id();
  return s;
}

grpc::Status start_container(Daemon& d, const std::string& id) {
  v1::StartContainerRequest req;
  req.set_container_id(id);
  v1::StartContainerResponse res;
  return d.runtime()->StartContainer(deadline_ctx(60).get(), req, &res);
}

grpc::Status stop_container(Daemon& d, const std::string& id, int64_t timeout) {
  v1::StopContainerRequest req;
  req.set_container_id(id);
  req.set_timeout(timeout);
  v1::StopContainerResponse res;
  return d.runtime()->StopContainer(deadline_ctx(static_cast<int>(timeout) + 60).get(), req, &res);
}

grpc::Status remove_container(Daemon& d, const std::string& id) {
  v1::RemoveContainerRequest req;
  req.set_container_id(id);
  v1::RemoveContainerResponse res;
  return d.runtime()->RemoveContainer(deadline_ctx(60).get(), req, &res);
}

v1::ContainerStatusResponse container_status(Daemon& d, const std::string& id, grpc::Status* st) {
  v1::ContainerStatusRequest req;
  req.set_container_id(id);
  req.set_verbose(true);
  v1::ContainerStatusResponse res;
  auto s = d.runtime()->ContainerStatus(deadline_ctx().get(), req, &res);
  if (st) *st = s;
  return res;
}

size_t container_count(Daemon& d) {
  v1::ListContainersResponse res;
  if (!d.runtime()->ListContainers(deadline_ctx().get(), v1::ListContainersRequest(), &res).ok()) return 999;
  return static_cast<size_t>(res.containers_size());
}

nlohmann::json container_info(Daemon& d, const std::string& id) {
  auto res = container_status(d, id);
  if (!res.info().count("info")) return nlohmann::json::object();
  return nlohmann::json::parse(res.info().at("info"));
}

ExecOutput exec_sync(Daemon& d, const std::string& id, const std::vector<std::string>& cmd, int64_t timeout) {
  v1::ExecSyncRequest req;
  req.set_container_id(id);
  for (const auto& a : cmd) req.add_cmd(a);
  req.set_timeout(timeout);
  v1::ExecSyncResponse res;
  ExecOutput out;
  out.status = d.runtime()->ExecSync(deadline_ctx(static_cast<int>(timeout) + 60).get(), req, &res);
  out.exit_code = res.exit_code();
  out.out = res.stdout();
  out.err = res.stderr();
  return out;
}

bool wait_state(Daemon& d, const std::string& id, v1::ContainerState state, int timeout_ms) {
  return crius::testing::eventually([&] { return container_status(d, id).status().state() == state; },
                                    std::chrono::milliseconds(timeout_ms));
}

std::string container_log(Daemon& d, const std::string& id) {
  const std::string path = container_status(d, id).status().log_path();
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool wait_log(Daemon& d, const std::string& id, const std::string& needle, int timeout_ms) {
  return crius::testing::eventually([&] { return container_log(d, id).find(needle) != std::string::npos; },
                                    std::chrono::milliseconds(timeout_ms));
}

std::string proc_status_field(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string v = line.substr(field.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

std::vector<std::string> mounts_under(const std::string& part) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point.find(part) != std::string::npos) out.push_back(point);
  }
  return out;
}

std::vector<int> monitors_of(const std::string& part) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd(std::istreambuf_iterator<char>(in), {});
    if (cmd.find("crius-monitor") != std::string::npos && cmd.find(part) != std::string::npos)
      out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace crius::test
