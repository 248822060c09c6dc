#include "container/containers.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "base/clock.h"
#include "base/crash_point.h"
#include "base/error.h"
#include "base/file.h"
#include "base/id_prefix.h"
#include "base/log.h"
#include "base/rollback.h"
#include "base/self_exe.h"
#include "base/wait.h"
#include "container/cdi_requests.h"
#include "container/direct_runtime.h"
#include "container/handlers.h"
#include "container/pod_context.h"
#include "oci/cri/spec_builder.h"

namespace crius::container {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMonitorName = "crius-monitor";
// ExecSync output kept per stream, as kubelet's own cap on probe output.
constexpr size_t kExecOutputCap = 16 << 20;
// How long a SIGKILLed container may take to be reaped before stop fails.
constexpr auto kKillGrace = 10s;

std::string name_key(const std::string& pod, const std::string& name, uint32_t attempt) {
  return pod + "/" + name + "/" + std::to_string(attempt);
}

void apply_exit(Record& rec, const oci::monitor::ExitInfo& e) {
  rec.state = State::exited;
  rec.exit_code = e.exit_code;
  rec.finished_at = e.finished_at;
  rec.pid = 0;
  if (e.oom_killed) {
    rec.reason = "OOMKilled";
  } else {
    rec.reason = e.exit_code == 0 ? "Completed" : "Error";
  }
}

// The end of a container whose monitor had died: nobody reaped it for us,
// so its status is not known; what the daemon did to it is.
void apply_lost_exit(Record& rec, int signal) {
  rec.state = State::exited;
  rec.finished_at = now_ns();
  rec.pid = 0;
  rec.reason = "Error";
  if (signal) {
    rec.exit_code = 128 + signal;
    rec.message = "the pod's monitor had died, so the exit status was not recorded; the container was stopped "
                  "with signal " + std::to_string(signal);
  } else {
    rec.exit_code = 255;
    rec.message = "the pod's monitor died, and with it the container's exit status";
  }
}

// Whether process pid sees at path what this process does (its mount
// namespace has the same mount there); true when that cannot be told.
bool monitor_sees(pid_t pid, const std::string& path) {
  struct stat mine, theirs;
  if (pid <= 0 || ::stat(path.c_str(), &mine) != 0) return true;
  const std::string there = "/proc/" + std::to_string(pid) + "/root" + path;
  if (::stat(there.c_str(), &theirs) != 0) return errno != ENOENT || !fs::exists("/proc/" + std::to_string(pid));
  return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

}  // namespace

std::string default_monitor_binary() { return sibling_executable(kMonitorName); }

Containers::Containers(const std::string& root, const std::string& state, sandbox::Sandboxes& pods,
                       image::Images& images, std::string monitor_binary)
    : records_dir_(root + "/containers"),
      bundles_dir_(state + "/containers"),
      runtime_state_(state + "/runtime"),
      pods_(pods),
      images_(images),
      monitor_binary_(std::move(monitor_binary)) {
  mkdir_all(records_dir_);
  mkdir_all(bundles_dir_);
}

void Containers::load() {
  std::vector<Record> stopped_while_down;
  std::vector<std::string> orphans;  // created or running, their monitor gone
  // Each pod's monitor, asked once: its pid and the containers it holds.
  struct Held {
    std::optional<oci::monitor::Client> client;
    std::map<std::string, oci::monitor::ContainerInfo> containers;
  };
  std::map<std::string, Held> monitors;
  auto monitor_in = [&](const std::string& dir) -> Held& {
    auto [it, fresh] = monitors.try_emplace(dir);
    if (!fresh) return it->second;
    try {
      it->second.client = oci::monitor::Client::connect(dir);
      if (it->second.client) {
        for (auto& info : it->second.client->list()) it->second.containers[info.id] = info;
        watch_monitor(dir, it->second.client->pid());
      }
    } catch (const Error& e) {
      log::warn("asking a pod's monitor for its containers", {{"monitor", dir}, {"error", e.what()}});
    }
    return it->second;
  };
  for (Record rec : load_all(records_dir_)) {
    if (!rec.monitor_dir.empty() && rec.state != State::exited) {
      try {
        exit_watch_.watch(rec.monitor_dir);
      } catch (const Error& e) {
        log::warn("watching a monitor's exits", {{"id", rec.id}, {"error", e.what()}});
      }
    }
    // -1: no live monitor holds it (it died, or a later one runs the pod).
    pid_t held_by = -1;
    const oci::monitor::ContainerInfo* info = nullptr;
    if (!rec.monitor_dir.empty()) {
      Held& m = monitor_in(rec.monitor_dir);
      if (auto it = m.containers.find(rec.id); it != m.containers.end()) {
        held_by = m.client->pid();
        info = &it->second;
      }
    }
    if (rec.state == State::created || rec.state == State::running) {
      // No exit recorded: the monitor must still hold the container; when
      // none does, it is adopted below.
      if (!refresh(rec)) {
        if (!info) orphans.push_back(rec.id);
        else if (info->exit) apply_exit(rec, *info->exit);
        else rec.state = info->status == "created" ? State::created : State::running;
      }
      persist(rec);
      if (rec.state == State::exited) stopped_while_down.push_back(rec);
    }
    auto e = std::make_shared<Entry>();
    names_[name_key(rec.pod_id, rec.name, rec.attempt)] = rec.id;
    e->monitor_pid = held_by;
    e->rec = std::move(rec);
    containers_[e->rec.id] = e;
  }
  sweep();
  log::info("container records loaded", {{"count", std::to_string(containers_.size())}});
  for (const auto& rec : stopped_while_down) report(Event::stopped, rec);
  for (const auto& id : orphans) adopt(*containers_.at(id));
}

void Containers::report(Event kind, const Record& rec) {
  // start() logs the start itself: a container that exits at once never
  // becomes running in its record, and so has no started event.
  if (kind != Event::started) log_change(kind, rec);
  if (!listener_) return;
  try {
    // The time it is reported (kubelet orders its cache by it), not the exit's.
    listener_({kind, rec.id, rec.pod_id, now_ns()});
  } catch (const std::exception& e) {
    log::warn("reporting a container event", {{"id", rec.id}, {"error", e.what()}});
  }
}

void Containers::exited(const std::string& id) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return;  // removed meanwhile, or not ours
    e = it->second;
  }
  snapshot(*e);  // takes the exit record and reports the stop
}

std::vector<Record> Containers::peek(const std::string& pod_id) const {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : containers_) all.push_back(e);
  }
  std::vector<Record> out;
  for (const auto& e : all) {
    std::lock_guard lock(e->mu);
    if (e->rec.pod_id == pod_id) out.push_back(e->rec);
  }
  return out;
}

void Containers::persist(const Record& rec) { save(records_dir_, rec); }

bool Containers::refresh(Record& rec) { return refresh(rec, Orphan{}); }

bool Containers::refresh(Record& rec, const Orphan& orphan) {
  if (rec.state != State::created && rec.state != State::running) return false;
  if (!rec.monitor_dir.empty()) {
    if (auto e = oci::monitor::read_exit(rec.monitor_dir, rec.id)) {
      apply_exit(rec, *e);
      return true;
    }
  }
  if (!orphan.gone) return false;
  apply_lost_exit(rec, orphan.signal);
  return true;
}

Record Containers::snapshot(Entry& e) {
  std::lock_guard ev(e.ev);
  Record out;
  State before;
  {
    std::lock_guard lock(e.mu);
    before = e.rec.state;
    // An exit that cannot be saved (a full disk) is still reported: the
    // monitor's exit record stays the truth on disk until it can be.
    if (refresh(e.rec, e.orphan)) {
      try {
        persist(e.rec);
      } catch (const Error& err) {
        log::warn("saving a container's exit", {{"id", e.rec.id}, {"error", err.what()}});
      }
    }
    out = e.rec;
  }
  if (auto kind = transition(before, out.state)) report(*kind, out);
  return out;
}

void Containers::store(Entry& e, const Record& rec) {
  std::lock_guard ev(e.ev);
  State before;
  {
    std::lock_guard lock(e.mu);
    persist(rec);
    before = e.rec.state;
    e.rec = rec;
  }
  if (auto kind = transition(before, rec.state)) report(*kind, rec);
}

void Containers::log_change(Event kind, const Record& rec) const {
  log::Scope names;  // this line's, also when no RPC named them (an exit)
  log::annotate("container_id", rec.id);
  log::annotate("container", rec.name);
  log::annotate("pod_id", rec.pod_id);
  log::annotate("pod", pods_.log_name(rec.pod_id));
  switch (kind) {
    case Event::created: log::info("container created"); break;
    case Event::started: log::info("container started", {{"pid", std::to_string(rec.pid)}}); break;
    case Event::stopped:
      log::info("container exited", {{"exit_code", std::to_string(rec.exit_code)}, {"reason", rec.reason}});
      break;
    case Event::deleted: log::info("container removed"); break;
  }
}

std::shared_ptr<Containers::Entry> Containers::find(const std::string& id) const {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    if (id.empty()) throw InvalidArgument("container_id is empty");
    e = find_by_id_or_prefix(containers_, id, "container");
  }
  if (!log::annotating()) return e;
  std::string pod_id;
  {
    std::lock_guard lock(e->mu);
    log::annotate("container_id", e->rec.id);
    log::annotate("container", e->rec.name);
    pod_id = e->rec.pod_id;
  }
  log::annotate("pod_id", pod_id);
  log::annotate("pod", pods_.log_name(pod_id));
  return e;
}

std::vector<std::shared_ptr<Containers::Entry>> Containers::entries_of(const std::string& pod_id) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Entry>> out;
  for (const auto& [id, e] : containers_) {
    std::lock_guard rec_lock(e->mu);
    if (e->rec.pod_id == pod_id) out.push_back(e);
  }
  return out;
}

oci::monitor::Client Containers::monitor_for(const sandbox::Record& pod, const conf::Config& conf) {
  std::lock_guard lock(monitors_mu_);
  const std::string dir = pod.run_dir + "/monitor";
  exit_watch_.watch(dir);  // before any container of it can exit
  if (auto m = oci::monitor::Client::connect(dir)) {
    watch_monitor(dir, m->pid());
    return *m;
  }
  if (monitor_binary_.empty())
    throw FailedPrecondition(std::string("the ") + kMonitorName + " binary is missing (looked beside the crius binary)");
  oci::monitor::StartOptions o;
  o.binary = monitor_binary_;
  o.dir = dir;
  o.pod_id = pod.id;
  o.handler = handler_for(pod, conf, runtime_state_);
  o.cgroup_dirs = pod_cgroup_dirs(pod);
  auto m = oci::monitor::Client::start(o);
  watch_monitor(dir, m.pid());
  return m;
}

std::optional<oci::monitor::Client> Containers::monitor_of(const Record& rec) {
  if (rec.monitor_dir.empty()) return std::nullopt;
  return oci::monitor::Client::connect(rec.monitor_dir);
}

std::optional<oci::monitor::Client> Containers::monitor_of(Entry& e) {
  Record rec;
  pid_t held_by;
  {
    std::lock_guard lock(e.mu);
    rec = e.rec;
    held_by = e.monitor_pid;
  }
  auto m = monitor_of(rec);
  // A later monitor of the pod (the one that held it died) does not know it.
  if (held_by == -1 || (m && held_by != 0 && m->pid() != held_by)) return std::nullopt;
  return m;
}

oci::monitor::Client Containers::held_monitor(const Record& rec) {
  if (auto m = monitor_of(rec)) return *m;
  throw Unavailable("the monitor of pod sandbox " + rec.pod_id + " does not answer; container " + rec.id +
                    " can only be stopped and removed");
}

void Containers::check_image_volumes(const runtime::v1::ContainerConfig& config, const conf::ImageConfig& conf) const {
  for (int i = 0; i < config.mounts_size(); ++i) {
    const auto& m = config.mounts(i);
    const std::string field = "mounts[" + std::to_string(i) + "]";
    if (m.image().image().empty()) {
      if (!m.image_sub_path().empty())
        throw InvalidArgument(field + ".image_sub_path \"" + m.image_sub_path() + "\": set without image.image");
      continue;
    }
    if (!m.host_path().empty())
      throw InvalidArgument(field + ": host_path \"" + m.host_path() + "\" and image \"" + m.image().image() +
                            "\" are mutually exclusive");
    // The CRI: image volumes are read-only by definition; kubelet sends readonly: true.
    if (!m.readonly())
      throw InvalidArgument(field + ".readonly is false for image volume \"" + m.image().image() +
                            "\": image volumes are always read-only");
    if (!images_.find(m.image().image(), conf))
      throw NotFound(field + ".image \"" + m.image().image() + "\": the image is not present locally; pull it first");
  }
}

std::string Containers::create(const std::string& pod_id, const runtime::v1::ContainerConfig& config,
                            const conf::Config& conf) {
  if (!config.has_metadata() || config.metadata().name().empty())
    throw InvalidArgument("container config: metadata.name is required");
  if (config.image().image().empty()) throw InvalidArgument("container config: image.image is required");
  log::annotate("container", config.metadata().name());
  const sandbox::Record pod = pods_.get(pod_id);
  if (pod.state != sandbox::State::ready)
    throw FailedPrecondition("pod sandbox " + pod.id + " is not ready; containers cannot be created in it");
  auto image = images_.find(config.image().image(), conf.image);
  if (!image) throw NotFound("image \"" + config.image().image() + "\" is not present locally; pull it first");
  check_image_volumes(config, conf.image);

  const std::string id = sandbox::new_id();
  const std::string key = name_key(pod.id, config.metadata().name(), config.metadata().attempt());
  Rollback undo("CreateContainer");
  {
    std::lock_guard lock(mu_);
    auto it = names_.find(key);
    if (it != names_.end())
      throw AlreadyExists("container name \"" + config.metadata().name() + "\" (attempt " +
                          std::to_string(config.metadata().attempt()) + ") is already used in pod sandbox " + pod.id +
                          " by container " + it->second);
    names_[key] = id;
  }
  undo.add([this, key] {
    std::lock_guard lock(mu_);
    names_.erase(key);
  });

  Record rec;
  rec.id = id;
  rec.pod_id = pod.id;
  rec.name = config.metadata().name();
  rec.attempt = config.metadata().attempt();
  rec.config = config;
  rec.image = config.image().image();
  rec.image_id = image->id;
  rec.image_name = image_name_for(*image, config.image().image());
  rec.image_ref = image->repo_digests.empty() ? image->id : image->repo_digests.front();
  rec.created_at = now_ns();
  rec.handler = pod.runtime_handler;
  rec.runtime = handler_for(pod, conf, runtime_state_);
  rec.bundle = bundles_dir_ + "/" + id;
  rec.monitor_dir = pod.run_dir + "/monitor";
  rec.resources = config.linux().resources();

  const auto idmap = rootfs_idmap(pod);
  rec.rootfs = images_.mount_rootfs(id, image->id, false, conf.image, idmap ? &*idmap : nullptr);
  undo.add([this, id] { images_.remove_rootfs(id); });
  crash_point("CreateContainer/after-rootfs");
  if (idmap) open_path_to_rootfs(rec.rootfs, fs::path(records_dir_).parent_path().string());
  // Image volumes live under the rootfs directory: remove_rootfs takes them too.
  std::map<int, std::string> volume_sources;
  for (int i = 0; i < config.mounts_size(); ++i) {
    const auto& m = config.mounts(i);
    if (m.image().image().empty()) continue;
    auto v = images_.mount_image_volume(id, static_cast<size_t>(i), m.image().image(), m.image_sub_path(),
                                        "mounts[" + std::to_string(i) + "]", conf.image);
    volume_sources[i] = v.source;
    rec.image_volume_refs[i] = v.image_ref;
  }

  runtime::v1::PodSandboxConfig pod_config = pod_sandbox_config(pod);
  // kubelet always sends the container's namespace modes; a client that does
  // not gets the pod's. Network and IPC are the pod's whatever the container
  // says (kubelet copies them; crictl's container configs name only PID):
  // a container in a host-network pod is on the host's network.
  runtime::v1::ContainerConfig effective = config;
  const auto& pod_ns = pod_config.linux().security_context().namespace_options();
  if (auto* sc = effective.mutable_linux()->mutable_security_context(); !sc->has_namespace_options()) {
    *sc->mutable_namespace_options() = pod_ns;
  } else {
    sc->mutable_namespace_options()->set_network(pod_ns.network());
    sc->mutable_namespace_options()->set_ipc(pod_ns.ipc());
  }
  oci::cri::PodContext context = pod_context(pod, effective, [this](const std::string& t) { return get(t).pid; });
  context.image_volumes = std::move(volume_sources);
  oci::cri::BuiltSpec built = oci::cri::build_spec(id, effective, pod_config, image_config_of(*image), rec.rootfs,
                                                   context, spec_defaults(conf));
  built.spec["root"]["path"] = rec.rootfs;
  cdi_.inject(built.spec, cdi_requests(config), conf.runtime.cdi_spec_dirs);  // CDI devices; the undo steps cover a refusal
  rec.log_path = built.log_path;
  rec.cgroups_path = built.cgroups_path;
  rec.stop_signal = built.stop_signal;
  rec.uid = built.user.uid;
  rec.gid = built.user.gid;
  // As the process will run: with the additional GIDs of CDI devices.
  rec.supplemental_groups = built.spec["process"]["user"].value("additionalGids", built.user.supplemental_groups);
  rec.username = built.user.username;

  mkdir_all(rec.bundle);
  undo.add([dir = rec.bundle] { remove_all(dir); });
  write_file_atomic(rec.bundle + "/config.json", built.spec.dump(), 0600, false);
  crash_point("CreateContainer/after-bundle");
  if (!rec.log_path.empty()) mkdir_all(fs::path(rec.log_path).parent_path().string());

  auto monitor = monitor_for(pod, conf);
  // A daemon restarted into a mount namespace of its own (a service
  // manager's private mounts, an unshare) whose mounts do not reach the
  // monitor it found: the init would find no root filesystem there.
  if (!monitor_sees(monitor.pid(), rec.rootfs))
    throw FailedPrecondition("the pod's crius-monitor (pid " + std::to_string(monitor.pid()) +
                             ") does not see the container's root filesystem: it runs in another mount namespace, "
                             "from before the daemon was restarted in a new one, and this pod cannot take new "
                             "containers; remove the pod and run it again");
  crash_point("CreateContainer/after-monitor");
  oci::monitor::ContainerOptions co;
  co.id = id;
  co.bundle = rec.bundle;
  co.log_path = rec.log_path;
  co.tty = config.tty();
  co.stdin = config.stdin();
  co.stdin_once = config.stdin_once();
  rec.pid = monitor.create(co);
  undo.add([monitor, id]() mutable { monitor.remove(id); });
  crash_point("CreateContainer/after-create");
  rec.state = State::created;

  persist(rec);
  auto e = std::make_shared<Entry>();
  e->rec = std::move(rec);
  e->monitor_pid = monitor.pid();
  std::lock_guard ev(e->ev);  // created comes before anything else of it
  {
    std::lock_guard lock(mu_);
    containers_[id] = e;
  }
  undo.commit();
  report(Event::created, e->rec);
  return id;
}

void Containers::start(const std::string& id) {
  auto e = find(id);
  std::lock_guard op(e->op);
  Record rec = snapshot(*e);
  if (rec.state != State::created)
    throw FailedPrecondition("container " + rec.id + " is not in the created state; it cannot be started");
  auto m = held_monitor(rec);
  m.start(rec.id);
  crash_point("StartContainer/after-start");
  rec.state = State::running;
  rec.started_at = now_ns();
  if (auto info = m.status(rec.id); info.started_at) rec.started_at = info.started_at;
  log_change(Event::started, rec);
  refresh(rec);  // it may have exited already
  store(*e, rec);
}

void Containers::stop_locked(Entry& e, std::chrono::seconds timeout) {
  Record rec = snapshot(e);
  if (rec.state == State::exited || rec.state == State::unknown) return;
  bool adopted;
  {
    std::lock_guard lock(e.mu);
    adopted = e.orphan.adopted;
  }
  std::optional<oci::monitor::Client> m;
  if (!adopted) m = monitor_of(e);
  if (!m) {  // gone before its watch said so, or adopted already
    adopt(e);
    stop_orphan(e, timeout);
    return;
  }
  auto exited = [&](std::chrono::milliseconds within) { return wait_until([&] { return refresh(rec); }, within, 1ms); };
  auto send = [&](int sig) {
    try {
      m->kill(rec.id, sig, sig == SIGKILL);
    } catch (const Error& err) {
      if (err.code() != ErrorCode::failed_precondition) throw;  // already stopped
    }
  };
  if (rec.state == State::running && timeout > 0s) {
    send(rec.stop_signal);
    crash_point("StopContainer/after-signal");
    if (exited(timeout)) {
      store(e, rec);
      return;
    }
  }
  send(SIGKILL);
  if (!exited(kKillGrace))
    throw Internal("container " + rec.id + " did not exit within " + std::to_string(kKillGrace.count()) +
                   "s of SIGKILL");
  store(e, rec);
}

void Containers::stop(const std::string& id, std::chrono::seconds timeout) {
  const auto found = unless_gone([&] { return find(id); });
  if (!found) return;
  const std::shared_ptr<Entry>& e = *found;
  std::lock_guard op(e->op);
  stop_locked(*e, timeout);
}

void Containers::remove_locked(Entry& e) {
  stop_locked(e, 0s);  // returns at once when it is not running
  const Record rec = snapshot(e);
  bool adopted;
  {
    std::lock_guard lock(e.mu);
    adopted = e.orphan.adopted;
  }
  std::optional<oci::monitor::Client> m;
  if (!adopted) m = monitor_of(e);
  if (m) m->remove(rec.id);
  else runtime_delete(runtime_of(rec), rec.id);  // the runtime's state and the container's cgroup
  crash_point("RemoveContainer/after-monitor-remove");
  images_.remove_rootfs(rec.id);
  remove_all(rec.bundle);
  erase_record(records_dir_, rec.id);
  std::lock_guard ev(e.ev);
  {
    std::lock_guard lock(mu_);
    containers_.erase(rec.id);
    names_.erase(name_key(rec.pod_id, rec.name, rec.attempt));
  }
  report(Event::deleted, rec);
}

void Containers::remove(const std::string& id) {
  const auto found = unless_gone([&] { return find(id); });
  if (!found) return;
  const std::shared_ptr<Entry>& e = *found;
  std::lock_guard op(e->op);
  const std::string full_id = snapshot(*e).id;
  {
    std::lock_guard lock(mu_);
    if (!containers_.count(full_id)) return;  // removed meanwhile
  }
  remove_locked(*e);
}

Record Containers::get(const std::string& id) { return snapshot(*find(id)); }

std::vector<Record> Containers::list() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : containers_) all.push_back(e);
  }
  std::vector<Record> out;
  out.reserve(all.size());
  for (const auto& e : all) out.push_back(snapshot(*e));
  return out;
}

ExecOutput Containers::exec_sync(const std::string& id, const std::vector<std::string>& cmd,
                              std::chrono::seconds timeout) {
  if (cmd.empty()) throw InvalidArgument("ExecSync: cmd is empty");
  Record rec = get(id);
  if (rec.state != State::running)
    throw FailedPrecondition("container " + rec.id + " is not running; cannot exec in it");
  nlohmann::json process = exec_process_for(rec, cmd);
  auto r = held_monitor(rec).exec_sync(rec.id, process, timeout, kExecOutputCap);
  if (r.timed_out)
    throw DeadlineExceeded("ExecSync of " + cmd.front() + " in container " + rec.id + " timed out after " +
                           std::to_string(timeout.count()) + "s; the process was killed");
  return {r.exit_code, std::move(r.stdout_data), std::move(r.stderr_data)};
}

void Containers::reopen_log(const std::string& id) {
  Record rec = get(id);
  if (rec.state != State::running)
    throw FailedPrecondition("container " + rec.id + " is not running; its log cannot be reopened");
  held_monitor(rec).reopen_log(rec.id);
}

void Containers::update_resources(const std::string& id, const runtime::v1::LinuxContainerResources& resources) {
  auto e = find(id);
  std::lock_guard op(e->op);
  Record rec = snapshot(*e);
  if (rec.state == State::exited || rec.state == State::unknown)
    throw FailedPrecondition("container " + rec.id + " is not running; its resources cannot be updated");
  held_monitor(rec).update_resources(rec.id, oci::cri::linux_resources(resources));
  rec.resources = resources;
  store(*e, rec);
}

void Containers::stop_pod(const std::string& pod_id) {
  for (const auto& e : entries_of(pod_id)) {
    std::lock_guard op(e->op);
    stop_locked(*e, 0s);
  }
}

void Containers::remove_pod(const std::string& pod_id) {
  std::string monitor_dir;
  for (const auto& e : entries_of(pod_id)) {
    std::lock_guard op(e->op);
    monitor_dir = snapshot(*e).monitor_dir;
    remove_locked(*e);
  }
  // The monitor may also exist without containers (a create that failed late).
  if (monitor_dir.empty()) {
    try {
      monitor_dir = pods_.get(pod_id).run_dir + "/monitor";
    } catch (const Error&) {
      return;
    }
  }
  auto m = oci::monitor::Client::connect(monitor_dir);
  if (!m) {
    // Alive but deaf (its socket removed, or stuck): its containers went
    // through the runtime above; it goes too, or nothing would end it.
    if (const pid_t pid = oci::monitor::Client::lock_holder(monitor_dir)) {
      log::warn("the pod's monitor does not answer on its socket: killing it",
                {{"pod", pod_id}, {"pid", std::to_string(pid)}, {"dir", monitor_dir}});
      // Gone before the pod's cgroups are removed, which it is in.
      const Fd exits(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
      ::kill(pid, SIGKILL);
      pollfd p{exits.get(), POLLIN, 0};
      if (exits && ::poll(&p, 1, 5000) <= 0)
        log::warn("the pod's monitor did not end within 5 s of SIGKILL", {{"pid", std::to_string(pid)}});
    }
    return;
  }
  // Containers the monitor holds but no record names (a create cut short by
  // a crash of the daemon) go with their pod too: the monitor's remove kills
  // them, then their root filesystem and bundle go.
  for (const auto& left : m->list()) {
    log::warn("removing a container that has no record with its pod", {{"id", left.id}, {"pod", pod_id}});
    m->remove(left.id);
    images_.remove_rootfs(left.id);
    remove_all(bundles_dir_ + "/" + left.id);
  }
  m->shutdown();
}

}  // namespace crius::container
