#include "tests/bench/load/kubelet_pods.h"
//
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace crius::bench::load {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string random_hex(int n) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string s;
  for (int i = 0; i < n; ++i) s += "0123456789abcdef"[rng() % 16];
  return s;
}

std::string first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string l;
  std::getline(in, l);
  return l;
}

// mkdir -p of `rel` under one hierarchy; a new cpuset cgroup gets its
// parent's cpus and mems, as kubelet's cgroup manager gives it (an empty
// one admits no task).
void make_cgroup(const fs::path& root, const std::string& rel) {
  fs::path at = root;
  for (const auto& part : fs::path(rel).relative_path()) {
    const fs::path parent = at;
    at /= part;
    if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST)
      throw std::runtime_error("mkdir " + at.string() + ": " + std::strerror(errno));
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      if (!fs::exists(at / f) || !first_line(at / f).empty()) continue;
      std::ofstream(at / f) << first_line(parent / f);
    }
  }
}

v1::PodSandboxConfig pod_config(const Pod& p) {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(p.name);
  c.mutable_metadata()->set_namespace_("crius-bench-load");
  c.mutable_metadata()->set_uid(random_hex(16));
  c.set_hostname(p.name);
  c.set_log_directory(p.log_dir);
  auto* l = c.mutable_linux();
  l->set_cgroup_parent(p.cgroup);
  auto* ns = l->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::POD);
  ns->set_pid(v1::CONTAINER);
  ns->set_ipc(v1::POD);
  return c;
}

}  // namespace

std::vector<std::string> cgroup_hierarchies() {
  if (fs::exists("/sys/fs/cgroup/cgroup.procs")) return {"/sys/fs/cgroup"};
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec))
    if (!e.is_symlink() && fs::exists(e.path() / "cgroup.procs")) out.push_back(e.path());
  return out;
}

KubeletPods::KubeletPods(const RunDir& run, CriDaemon& daemon, std::string image)
    : run_(run), d_(daemon), image_(std::move(image)), hierarchies_(cgroup_hierarchies()) {}

std::string KubeletPods::cgroup_root() const { return run_.cgroup_root() + "/" + d_.name(); }

Pod KubeletPods::prepare(const std::string& name) const {
  Pod p;
  p.name = name;
  p.cgroup = cgroup_root() + "/" + name;
  p.log_dir = run_ / ("logs/" + d_.name() + "/" + name);
  fs::create_directories(p.log_dir);
  for (const auto& h : hierarchies_) make_cgroup(h, p.cgroup);
  p.config = pod_config(p);
  return p;
}

grpc::Status KubeletPods::run_pod(Pod& p) const {
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = p.config;
  v1::RunPodSandboxResponse res;
  auto s = d_.runtime().RunPodSandbox(deadline(kStepDeadline).get(), req, &res);
  p.id = res.pod_sandbox_id();
  return s;
}

grpc::Status KubeletPods::pod_status(const Pod& p) const {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(p.id);
  req.set_verbose(true);
  v1::PodSandboxStatusResponse res;
  auto s = d_.runtime().PodSandboxStatus(deadline(kStepDeadline).get(), req, &res);
  if (s.ok() && res.status().state() != v1::SANDBOX_READY)
    return grpc::Status(grpc::StatusCode::INTERNAL, "pod " + p.id + " is not SANDBOX_READY after RunPodSandbox");
  if (s.ok()) note_pod_outside_run(run_, d_, res);
  return s;
}

grpc::Status KubeletPods::create_container(Pod& p) const {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(p.id);
  *req.mutable_sandbox_config() = p.config;
  auto* c = req.mutable_config();
  c->mutable_metadata()->set_name("work");
  c->mutable_image()->set_image(image_);
  c->add_command("sleep");
  c->add_command("3600");
  c->set_log_path("work.log");
  *c->mutable_linux()->mutable_security_context()->mutable_namespace_options() =
      p.config.linux().security_context().namespace_options();
  v1::CreateContainerResponse res;
  auto s = d_.runtime().CreateContainer(deadline(kStepDeadline).get(), req, &res);
  p.container = res.container_id();
  return s;
}

grpc::Status KubeletPods::start_container(const Pod& p) const {
  v1::StartContainerRequest req;
  req.set_container_id(p.container);
  v1::StartContainerResponse res;
  return d_.runtime().StartContainer(deadline(kStepDeadline).get(), req, &res);
}

grpc::Status KubeletPods::wait_running(const Pod& p) const {
  for (auto until = Clock::now() + 30s; Clock::now() < until;) {
    v1::ContainerStatusRequest req;
    req.set_container_id(p.container);
    v1::ContainerStatusResponse res;
    auto s = d_.runtime().ContainerStatus(deadline(kStepDeadline).get(), req, &res);
    if (!s.ok()) return s;
    if (res.status().state() == v1::CONTAINER_RUNNING) return grpc::Status::OK;
    if (res.status().state() == v1::CONTAINER_EXITED)
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "container exited: " + res.status().reason() + " " + res.status().message());
    std::this_thread::sleep_for(5ms);
  }
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "container not RUNNING within 30s");
}

grpc::Status KubeletPods::stop_container(const Pod& p) const {
  v1::StopContainerRequest req;
  req.set_container_id(p.container);
  req.set_timeout(0);
  v1::StopContainerResponse res;
  return d_.runtime().StopContainer(deadline(kStepDeadline).get(), req, &res);
}

grpc::Status KubeletPods::remove_container(const Pod& p) const {
  v1::RemoveContainerRequest req;
  req.set_container_id(p.container);
  v1::RemoveContainerResponse res;
  return d_.runtime().RemoveContainer(deadline(kStepDeadline).get(), req, &res);
}

grpc::Status KubeletPods::stop_pod(const Pod& p) const {
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(p.id);
  v1::StopPodSandboxResponse res;
  return d_.runtime().StopPodSandbox(deadline(kStepDeadline).get(), req, &res);
}

grpc::Status KubeletPods::remove_pod(const Pod& p) const {
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(p.id);
  v1::RemovePodSandboxResponse res;
  return d_.runtime().RemovePodSandbox(deadline(kStepDeadline).get(), req, &res);
}

std::string KubeletPods::release(const Pod& p) const {
  std::string problems;
  for (const auto& h : hierarchies_) {
    const std::string dir = h + p.cgroup;
    // A cgroup whose last task is still exiting is busy for a moment.
    int err = 0;
    for (int i = 0; i < 50; ++i) {
      err = ::rmdir(dir.c_str()) == 0 ? 0 : errno;
      if (err != EBUSY) break;
      std::this_thread::sleep_for(20ms);
    }
    if (err != 0 && err != ENOENT)
      problems += (problems.empty() ? "" : "; ") + ("rmdir " + dir + ": " + std::strerror(err));
  }
  std::error_code ec;
  fs::remove_all(p.log_dir, ec);
  return problems;
}

void KubeletPods::abandon(const Pod& p) const {
  if (!p.container.empty()) {
    stop_container(p);
    remove_container(p);
  }
  if (!p.id.empty()) {
    stop_pod(p);
    remove_pod(p);
  }
  release(p);
}

}  // namespace crius::bench::load
