#include "sandbox/sandboxes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <functional>

#include "base/clock.h"
#include "base/crash_point.h"
#include "base/error.h"
#include "base/file.h"
#include "base/id_prefix.h"
#include "base/log.h"
#include "base/mount.h"
#include "base/strings.h"
#include "oci/cgroups/hierarchy.h"
#include "sandbox/cgroup.h"
#include "sandbox/namespaces.h"
#include "sandbox/pause.h"
#include "sandbox/pause_watch.h"
#include "sandbox/pod_files.h"
#include "sandbox/rootless_network.h"
#include "sandbox/sysctl.h"
#include "sandbox/userns.h"

namespace crius::sandbox {
namespace fs = std::filesystem;

namespace {

// A hostname the kernel takes (at most 64 bytes) that is also a sequence of
// DNS labels: letters, digits and '-', no label empty, longer than 63 or
// starting or ending with '-'. Checked before anything is created.
void validate_hostname(const std::string& h) {
  const auto refuse = [&](const std::string& why) {
    throw InvalidArgument("PodSandboxConfig.hostname \"" + h + "\": " + why);
  };
  if (h.size() > 64) refuse("longer than 64 bytes");
  size_t start = 0;
  for (;;) {
    const size_t dot = h.find('.', start);
    const std::string label = h.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) refuse("has an empty label");
    if (label.size() > 63) refuse("has a label longer than 63 bytes");
    if (label.front() == '-' || label.back() == '-') refuse("a label starts or ends with '-'");
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
        refuse("only letters, digits, '-' and '.' are allowed");
    if (dot == std::string::npos) return;
    start = dot + 1;
  }
}

void validate(const PodSpec& s, const conf::Config& config) {
  if (s.name.empty()) throw InvalidArgument("PodSandboxConfig.metadata.name is required");
  if (s.uid.empty()) throw InvalidArgument("PodSandboxConfig.metadata.uid is required");
  if (s.namespace_.empty()) throw InvalidArgument("PodSandboxConfig.metadata.namespace is required");
  if (s.network != NsMode::pod && s.network != NsMode::node)
    throw InvalidArgument(std::string("namespace_options.network ") + ns_mode_name(s.network) +
                          " is not valid for a pod (POD or NODE)");
  if (s.ipc != NsMode::pod && s.ipc != NsMode::node)
    throw InvalidArgument(std::string("namespace_options.ipc ") + ns_mode_name(s.ipc) + " is not valid for a pod (POD or NODE)");
  if (s.pid == NsMode::target)
    throw InvalidArgument("namespace_options.pid TARGET applies to containers, not to a pod");
  if (!config.runtime.handlers.count(s.runtime_handler))
    throw InvalidArgument("runtime handler \"" + s.runtime_handler + "\" is not configured (runtime.handlers)");
  for (const auto& [name, value] : s.sysctls)
    validate_sysctl(name, s.network == NsMode::node, s.ipc == NsMode::node);
  if (!s.hostname.empty()) validate_hostname(s.hostname);
  validate_userns(s);
}

}  // namespace

Sandboxes::Sandboxes(std::string root, std::string state, cni::Cni& cni, std::string pause_binary)
    : records_dir_(root + "/sandboxes"),
      run_root_(state + "/sandboxes"),
      ns_root_(state + "/ns"),
      pause_binary_(std::move(pause_binary)),
      cni_(cni),
      cgroup_mounts_(cgroup_mounts()) {
  for (const auto& d : {records_dir_, run_root_, ns_root_}) {
    mkdir_all(d);
    // Also when it exists already, made by an earlier daemon.
    if (::chmod(d.c_str(), 0700) != 0) throw_errno("chmod 0700 " + d);
  }
  pause_watch_ = std::make_unique<PauseWatch>([this](pid_t pid) { pause_exited(pid); });
}

Sandboxes::~Sandboxes() = default;

void Sandboxes::pause_exited(pid_t pid) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : sandboxes_)
      if (entry->rec.pause_pid == pid) e = entry;
  }
  if (!e) return;  // stopped or removed meanwhile
  std::lock_guard op(e->op);
  if (e->rec.pause_pid != pid) return;
  Record next = e->rec;
  next.pause_pid = 0;
  next.state = State::notready;
  try {
    save(records_dir_, next);
  } catch (const std::exception& err) {
    log::error("saving pod sandbox record after its crius-pause died", {{"id", next.id}, {"error", err.what()}});
  }
  {
    std::lock_guard lock(mu_);
    e->rec = std::move(next);
  }
  log::warn("crius-pause of pod sandbox died; the pod is not ready",
            {{"pod_id", e->rec.id}, {"pod", e->rec.spec.log_name()}, {"pid", std::to_string(pid)}});
}

void Sandboxes::load() {
  auto records = load_all(records_dir_);
  std::lock_guard lock(mu_);
  for (auto& r : records) {
    // After a reboot the pins under <state> are gone: the pod cannot run.
    if (r.state == State::ready) {
      for (const auto& [kind, path] : r.namespaces) {
        std::error_code ec;
        if (!fs::exists(path, ec)) {
          r.state = State::notready;
          log::warn("pod sandbox lost its pinned namespace; marking it not ready", {{"id", r.id}, {"path", path}});
          break;
        }
      }
    }
    // After a daemon restart the pause process is not our child; a PID that
    // is no longer crius-pause means it died meanwhile.
    if (r.state == State::ready && r.pause_pid > 0 && !(is_pause(r.pause_pid) && pause_watch_->add(r.pause_pid))) {
      log::warn("crius-pause of pod sandbox is gone; marking it not ready", {{"id", r.id}});
      r.state = State::notready;
      r.pause_pid = 0;
    }
    auto e = std::make_shared<Entry>();
    e->rec = std::move(r);
    reserved_[e->rec.spec.reservation_key()] = e->rec.id;
    sandboxes_[e->rec.id] = e;
  }
  log::info("pod sandboxes loaded", {{"count", std::to_string(sandboxes_.size())}});
}

std::string Sandboxes::run(PodSpec spec, const conf::Config& config, const HandlerCheck& userns_check) {
  log::annotate("pod", spec.log_name());
  if (spec.runtime_handler.empty()) spec.runtime_handler = config.runtime.default_handler;
  validate(spec, config);
  if (spec.userns.own() && userns_check) userns_check(spec.runtime_handler);
  std::string cgroup = cgroup_path(spec.cgroup_parent, config.cgroup_driver);  // validates the name too
  if (!oci::cgroups::may_create_cgroups()) cgroup.clear();  // rootless without delegation: none

  // Kernel resources are owned here, outside the try, so that the undo steps
  // (CNI DEL before unpinning the netns) run while they still exist.
  Rollback undo("RunPodSandbox");
  PinnedNamespaces pins;
  PauseProcess pause;
  try {
    return run_steps(std::move(spec), config, cgroup, undo, pins, pause);
  } catch (...) {
    undo.run();
    throw;
  }
}

std::string Sandboxes::run_steps(PodSpec spec, const conf::Config& config, const std::string& cgroup, Rollback& undo,
                               PinnedNamespaces& pins, PauseProcess& pause) {
  const std::string id = new_id();
  const std::string key = spec.reservation_key();
  {
    std::lock_guard lock(mu_);
    auto it = reserved_.find(key);
    if (it != reserved_.end())
      throw AlreadyExists("pod sandbox " + spec.name + " (namespace " + spec.namespace_ + ", uid " + spec.uid +
                          ", attempt " + std::to_string(spec.attempt) + ") already exists with ID " + it->second);
    reserved_[key] = id;
  }
  undo.add([this, key] {
    std::lock_guard lock(mu_);
    reserved_.erase(key);
  });

  Record r;
  r.id = id;
  r.created_at = now_ns();
  r.runtime_handler = spec.runtime_handler;
  r.handler = config.runtime.handlers.at(spec.runtime_handler);  // validated above
  r.run_dir = run_root_ + "/" + id;
  mkdir_all(r.run_dir);
  undo.add([dir = r.run_dir] { remove_all(dir); });

  // Files the containers will get.
  const bool own_net = spec.network == NsMode::pod, own_ipc = spec.ipc == NsMode::pod;
  // A host-network pod keeps the node's UTS namespace and hostname, as kubelet
  // expects. A pod of its own that names no hostname gets the node's too, as
  // with containerd and cri-o (the pod's name may not be a valid hostname).
  const bool own_uts = own_net;
  const std::string hostname = own_uts && !spec.hostname.empty() ? spec.hostname : node_hostname();
  r.hostname_path = r.run_dir + "/hostname";
  write_file_atomic(r.hostname_path, hostname + "\n", 0644, false);
  r.resolv_conf_path = r.run_dir + "/resolv.conf";
  write_file_atomic(r.resolv_conf_path, resolv_conf_text(spec.dns), 0644, false);

  // Unmounted, when a later step fails, as run_steps unwinds: before the
  // undo steps, so that the run directory goes with nothing mounted in it.
  Mount shm;
  if (own_ipc) {
    r.shm_path = r.run_dir + "/shm";
    shm = mount_shm(r.shm_path, static_cast<uint64_t>(config.runtime.shm_size));
    r.shm_mounted = true;
  }

  if (!cgroup.empty()) {
    r.cgroup_parent = cgroup;
    r.cgroup_created =
        create_cgroup(cgroup, cgroup_mounts_, config.cgroup_driver == "systemd" ? spec.cgroup_parent : "");
    undo.add([dirs = r.cgroup_created] {
      if (const std::string problems = remove_cgroup_dirs(dirs); !problems.empty()) throw Internal(problems);
    });
    // Until the record is written, a crash leaves only this to say which.
    write_file_atomic(r.run_dir + "/" + kCgroupsFile, join(r.cgroup_created, "\n") + "\n", 0644, false);
  }

  NamespaceRequest nreq;
  nreq.net = own_net;
  nreq.ipc = own_ipc;
  nreq.uts = own_uts;
  nreq.user = spec.userns.own();
  nreq.uids = spec.userns.uids;
  nreq.gids = spec.userns.gids;
  nreq.hostname = hostname;
  nreq.sysctls = spec.sysctls;
  nreq.dir = ns_root_ + "/" + id;
  pins = PinnedNamespaces::create(nreq);
  r.namespaces = pins.paths();
  undo.add([&pins] { pins.unpin_now(); });
  crash_point("RunPodSandbox/after-namespaces");

  // A shared PID namespace gets crius-pause as its PID 1 (in the pod's
  // other namespaces, so that containers joining them all see one pod).
  if (spec.pid == NsMode::pod) {
    mkdir_all(nreq.dir);
    const std::string pid_pin = nreq.dir + "/pid";
    pause = PauseProcess::start(pause_binary_, r.namespaces, r.run_dir + "/pause-root", pid_pin);
    undo.add([pid_pin, dir = nreq.dir] {
      unpin_namespace(pid_pin);
      ::rmdir(dir.c_str());
    });
    r.namespaces["pid"] = pid_pin;
    r.pause_pid = pause.pid();
    undo.add([&pause] { pause = PauseProcess(); });
  }

  if (own_net) {
    cni::Attachment a;
    a.id = id;
    a.netns = r.namespaces.at("net");
    a.pod_namespace = spec.namespace_;
    a.pod_name = spec.name;
    a.pod_uid = spec.uid;
    a.port_mappings = spec.port_mappings;
    a.annotations = spec.annotations;
    cni::AddResult added = cni_.add(config.network, a);
    r.network = added.network;
    r.ips = added.ips;
    r.cni_attached = true;
    undo.add([this, id, net = config.network] { cni_.del(net, id); });
    crash_point("RunPodSandbox/after-cni-add");
    if (rootless_network_) {
      undo.add([this, ports = spec.port_mappings] { rootless_network_->unforward(ports); });
      for (const auto& m : spec.port_mappings) rootless_network_->forward(m);
    }
  }
  // Containers get it unless kubelet mounts its own /etc/hosts.
  r.hosts_path = r.run_dir + "/hosts";
  write_file_atomic(r.hosts_path, hosts_text(hostname, r.ips), 0644, false);

  r.spec = std::move(spec);
  r.state = State::ready;
  save(records_dir_, r);
  undo.add([this, id] { erase_record(records_dir_, id); });
  crash_point("RunPodSandbox/after-record");

  // Named before the entry is published: from then on a concurrent Stop or
  // the pause watch may rewrite e->rec (under op and mu_, neither held here).
  const std::string pod_name = r.spec.log_name();
  auto e = std::make_shared<Entry>();
  e->rec = std::move(r);
  {
    std::lock_guard lock(mu_);
    sandboxes_[id] = e;
  }
  pins.keep();
  shm.keep();
  if (pid_t p = pause.release(); p > 0) pause_watch_->add(p);
  undo.commit();
  log::info("pod sandbox running", {{"pod_id", id}, {"pod", pod_name}});
  return id;
}

std::shared_ptr<Sandboxes::Entry> Sandboxes::find(const std::string& id) const {
  std::lock_guard lock(mu_);
  if (id.empty()) throw InvalidArgument("pod_sandbox_id is empty");
  auto e = find_by_id_or_prefix(sandboxes_, id, "pod sandbox");
  if (log::annotating()) {
    log::annotate("pod_id", e->rec.id);
    log::annotate("pod", e->rec.spec.log_name());
  }
  return e;
}

std::string Sandboxes::log_name(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = sandboxes_.find(id);
  return it == sandboxes_.end() ? std::string() : it->second->rec.spec.log_name();
}

void Sandboxes::stop_locked(Entry& e, const conf::Config& config) {
  Record next = e.rec;
  if (next.cni_attached) {
    if (rootless_network_) rootless_network_->unforward(next.spec.port_mappings);
    cni_.del(config.network, next.id);
    crash_point("StopPodSandbox/after-cni-del");
    next.cni_attached = false;
    next.ips.clear();
  }
  if (next.shm_mounted) {
    detach_mount(next.shm_path);
    next.shm_mounted = false;
  }
  if (next.pause_pid > 0) {
    kill_pause(next.pause_pid);
    next.pause_pid = 0;
  }
  next.state = State::notready;
  save(records_dir_, next);
  std::lock_guard lock(mu_);
  e.rec = std::move(next);
}

void Sandboxes::stop(const std::string& id, const conf::Config& config) {
  auto e = find(id);
  std::lock_guard op(e->op);
  const Record& r = e->rec;
  if (r.state == State::notready && !r.cni_attached && !r.shm_mounted && r.pause_pid == 0) return;
  stop_locked(*e, config);
  log::info("pod sandbox stopped", {{"pod_id", e->rec.id}, {"pod", e->rec.spec.log_name()}});
}

void Sandboxes::remove(const std::string& id, const conf::Config& config) {
  std::shared_ptr<Entry> e;
  try {
    e = find(id);
  } catch (const Error& err) {
    if (err.code() == ErrorCode::not_found) return;
    throw;
  }
  std::lock_guard op(e->op);
  {
    std::lock_guard lock(mu_);
    if (!sandboxes_.count(e->rec.id)) return;  // removed by a concurrent call
  }
  if (e->rec.state == State::ready || e->rec.cni_attached || e->rec.shm_mounted || e->rec.pause_pid > 0)
    stop_locked(*e, config);
  const Record& r = e->rec;
  // The pins' own directory: a record may come from a daemon with another state dir.
  unpin_all(r.namespaces,
            r.namespaces.empty() ? std::string() : fs::path(r.namespaces.begin()->second).parent_path().string());
  crash_point("RemovePodSandbox/after-unpin");
  if (!r.run_dir.empty()) remove_all(r.run_dir);
  if (std::string problems = remove_cgroup_dirs(r.cgroup_created); !problems.empty())
    throw Internal("removing the cgroup of pod sandbox " + r.id + ": " + problems);
  erase_record(records_dir_, r.id);
  std::lock_guard lock(mu_);
  reserved_.erase(r.spec.reservation_key());
  sandboxes_.erase(r.id);
  log::info("pod sandbox removed", {{"pod_id", r.id}, {"pod", r.spec.log_name()}});
}

Record Sandboxes::get(const std::string& id) const {
  auto e = find(id);
  std::lock_guard lock(mu_);
  return e->rec;
}

std::set<std::string> Sandboxes::attached_ids() const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [id, e] : sandboxes_)
    if (e->rec.cni_attached) out.insert(id);
  return out;
}

std::vector<Record> Sandboxes::list() const {
  std::lock_guard lock(mu_);
  std::vector<Record> out;
  out.reserve(sandboxes_.size());
  for (const auto& [id, e] : sandboxes_) out.push_back(e->rec);
  return out;
}

}  // namespace crius::sandbox
