#include "tests/bench/cri/pods.h"
//
#include <random>
#include <thread>

namespace crius::bench {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string random_hex(int n) {
  static std::mt19937_64 rng(std::random_device{}());
  std::string s;
  for (int i = 0; i < n; ++i) s += "0123456789abcdef"[rng() % 16];
  return s;
}

grpc::Status create_container(CriDaemon& d, Pod& p, const std::string& image) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(p.id);
  *req.mutable_sandbox_config() = p.config;
  auto* c = req.mutable_config();
  c->mutable_metadata()->set_name("work");
  c->mutable_image()->set_image(image);
  c->add_command("sleep");
  c->add_command("3600");
  c->set_log_path("work.log");
  *c->mutable_linux()->mutable_security_context()->mutable_namespace_options() =
      p.config.linux().security_context().namespace_options();
  v1::CreateContainerResponse res;
  auto s = d.runtime().CreateContainer(deadline(120s).get(), req, &res);
  p.container = res.container_id();
  return s;
}

grpc::Status start_container(CriDaemon& d, const Pod& p) {
  v1::StartContainerRequest req;
  req.set_container_id(p.container);
  v1::StartContainerResponse res;
  return d.runtime().StartContainer(deadline(120s).get(), req, &res);
}

grpc::Status wait_running(CriDaemon& d, const Pod& p) {
  for (auto until = Clock::now() + 30s; Clock::now() < until;) {
    v1::ContainerStatusRequest req;
    req.set_container_id(p.container);
    v1::ContainerStatusResponse res;
    auto s = d.runtime().ContainerStatus(deadline(30s).get(), req, &res);
    if (!s.ok()) return s;
    if (res.status().state() == v1::CONTAINER_RUNNING) return grpc::Status::OK;
    if (res.status().state() == v1::CONTAINER_EXITED)
      return grpc::Status(grpc::StatusCode::INTERNAL, "container exited: " + res.status().reason() + " " +
                                                          res.status().message());
    std::this_thread::sleep_for(1ms);
  }
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "container not RUNNING within 30s");
}

}  // namespace

v1::PodSandboxConfig pod_config(const RunDir& run, const CriDaemon& d, const std::string& name) {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("crius-bench");
  c.mutable_metadata()->set_uid(random_hex(16));
  c.set_hostname(name);
  c.set_log_directory(d.pod_logs_dir(name));
  auto* l = c.mutable_linux();
  l->set_cgroup_parent(run.cgroup_root() + "/" + d.name() + "/" + name);
  auto* ns = l->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::POD);
  ns->set_pid(v1::CONTAINER);
  ns->set_ipc(v1::POD);
  return c;
}

grpc::Status run_pod(CriDaemon& d, Pod& p) {
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = p.config;
  v1::RunPodSandboxResponse res;
  auto s = d.runtime().RunPodSandbox(deadline(120s).get(), req, &res);
  p.id = res.pod_sandbox_id();
  return s;
}

grpc::Status teardown(CriDaemon& d, const Pod& p) {
  grpc::Status first = grpc::Status::OK;
  auto keep = [&](const grpc::Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  if (!p.container.empty()) {
    v1::StopContainerRequest s;
    s.set_container_id(p.container);
    s.set_timeout(0);
    v1::StopContainerResponse sr;
    keep(d.runtime().StopContainer(deadline(60s).get(), s, &sr));
    v1::RemoveContainerRequest r;
    r.set_container_id(p.container);
    v1::RemoveContainerResponse rr;
    keep(d.runtime().RemoveContainer(deadline(60s).get(), r, &rr));
  }
  if (!p.id.empty()) {
    v1::StopPodSandboxRequest s;
    s.set_pod_sandbox_id(p.id);
    v1::StopPodSandboxResponse sr;
    keep(d.runtime().StopPodSandbox(deadline(60s).get(), s, &sr));
    v1::RemovePodSandboxRequest r;
    r.set_pod_sandbox_id(p.id);
    v1::RemovePodSandboxResponse rr;
    keep(d.runtime().RemovePodSandbox(deadline(60s).get(), r, &rr));
  }
  return first;
}

void note_pod(const RunDir& run, CriDaemon& d, const Pod& p) {
  if (d.name() != "containerd" || p.id.empty()) return;
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(p.id);
  req.set_verbose(true);
  v1::PodSandboxStatusResponse res;
  if (d.runtime().PodSandboxStatus(deadline(30s).get(), req, &res).ok()) note_pod_outside_run(run, d, res);
}

void use_host_network(v1::PodSandboxConfig& config) {
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  config.clear_hostname();
}

grpc::Status start_pod(const RunDir& run, CriDaemon& d, const std::string& name, const std::string& image, Pod& p,
                       std::string& step, double* ms_sandbox, double* ms_total, uint32_t userns_host_id,
                       bool host_network) {
  p = Pod{};
  p.config = pod_config(run, d, name);
  if (host_network) use_host_network(p.config);
  if (userns_host_id) {
    auto* u = p.config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->mutable_userns_options();
    u->set_mode(v1::POD);
    for (auto* m : {u->add_uids(), u->add_gids()}) {
      m->set_host_id(userns_host_id);
      m->set_length(65536);
    }
  }
  auto t = Clock::now();
  grpc::Status s;
  step = "RunPodSandbox";
  s = run_pod(d, p);
  if (ms_sandbox) *ms_sandbox = ms_since(t);
  if (s.ok()) {
    step = "CreateContainer";
    s = create_container(d, p, image);
  }
  if (s.ok()) {
    step = "StartContainer";
    s = start_container(d, p);
  }
  if (s.ok()) {
    step = "ContainerStatus";
    s = wait_running(d, p);
  }
  if (ms_total) *ms_total = ms_since(t);
  note_pod(run, d, p);
  if (!s.ok()) teardown(d, p);
  return s;
}

void figure_pod_start(const RunDir& run, const std::vector<CriDaemon*>& ds, const std::string& image, int n,
                      const std::string& title, std::vector<Figure>& out, bool host_network) {
  const std::string a = ds.at(0)->name(), b = ds.at(1)->name();
  Figure total{title, "ms", {}, {}, a, b};
  Figure sandbox{"   of which RunPodSandbox alone", "ms", {}, {}, a, b};
  Figure down{"   teardown: StopContainer + RemoveContainer + StopPodSandbox + RemovePodSandbox", "ms", {}, {}, a, b};
  for (int i = 0; i < n; ++i) {
    for (size_t k = 0; k < ds.size(); ++k) {
      CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
      Series& st = d.name() == a ? total.crius : total.containerd;
      Series& ss = d.name() == a ? sandbox.crius : sandbox.containerd;
      Series& sd = d.name() == a ? down.crius : down.containerd;
      Pod p;
      std::string step;
      double ms_sb = 0, ms_all = 0;
      auto s = start_pod(run, d, (host_network ? "start-host-" : "start-") + std::to_string(i), image, p, step, &ms_sb,
                         &ms_all, 0, host_network);
      if (!s.ok()) {
        if (step != "RunPodSandbox") ss.v.push_back(ms_sb);
        st.fail(step, s);
        continue;
      }
      ss.v.push_back(ms_sb);
      st.v.push_back(ms_all);
      auto t = Clock::now();
      auto r = teardown(d, p);
      if (r.ok()) sd.v.push_back(ms_since(t));
      else sd.fail("teardown", r);
    }
  }
  out.push_back(std::move(total));
  out.push_back(std::move(sandbox));
  out.push_back(std::move(down));
}

}  // namespace crius::bench
