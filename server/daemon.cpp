// services.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "server/services.h"
//
#include "server/daemon.h"
#include "server/rootless_entry.h"

#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/log.h"
#include "base/version.h"
#include "image/pull_helper.h"
#include "server/metrics/http_server.h"
#include "server/reload.h"
#include "server/stream_backend.h"
#include "sandbox/pause.h"
#include "sandbox/rootless_network.h"
#include "server/socket_claim.h"

namespace crius::server {
namespace {

constexpr int kGrpcMessageLimit = 16 * 1024 * 1024;  // as containerd and cri-o allow
constexpr size_t kWorkThreads = 16;
constexpr auto kShutdownGrace = std::chrono::seconds(5);
// After the calls in flight were answered: long enough for gRPC to send
// those answers (Finish only queues them), short enough that the idle
// connections gRPC also waits for do not hold the daemon up.
constexpr auto kSendGrace = std::chrono::milliseconds(250);

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

void make_private_dir(const std::string& path, const char* key) {
  std::error_code ec;
  const bool made = std::filesystem::create_directories(path, ec);
  if (ec) throw Internal("creating " + std::string(key) + " directory " + path + ": " + ec.message());
  // Only a directory made here: an existing one keeps the mode its owner gave it.
  if (made && ::chmod(path.c_str(), 0711) != 0) throw_errno("chmod 0711 " + path);
}

void apply_logging(const conf::Config& c) {
  if (auto l = log::parse_level(c.log_level)) log::set_level(*l);
  if (auto f = log::parse_format(c.log_format)) log::set_format(*f);
}

// SIGHUP: re-read files and flags; keep what only a restart can change. RPCs
// read the store's snapshot once per call, so the next call sees the new
// config; `apply` hands it to the few parts that keep a copy of their own.
void reload(const conf::Options& options, ConfigStore& store, const std::function<void(const conf::Config&)>& apply) {
  try {
    auto current = store.get();
    ReloadPlan plan = plan_reload(*current, conf::load(options));
    for (const auto& c : plan.kept)
      log::warn("config key needs a restart to change; keeping the current value",
                {{"key", c.key}, {"current", c.before}, {"wanted", c.after}});
    for (const auto& c : plan.applied) log::info("config key changed", {{"key", c.key}, {"old", c.before}, {"new", c.after}});
    apply_logging(plan.config);
    apply(plan.config);
    store.set(std::move(plan.config));
    log::info("config reloaded",
              {{"changed", std::to_string(plan.applied.size())}, {"log_level", log::level_name(log::level())}});
  } catch (const std::exception& e) {
    log::error("config reload failed; keeping the current config", {{"error", e.what()}});
  }
}

}  // namespace

// What /metrics reports of the daemon's pods, containers and sessions now.
metrics::Gauges gauges(sandbox::Sandboxes& sandboxes, container::Containers& containers,
                       const streaming::Server& streams) {
  metrics::Gauges g;
  g.pods = {{"ready", 0}, {"notready", 0}};
  for (const auto& p : sandboxes.list()) ++g.pods[p.state == sandbox::State::ready ? "ready" : "notready"];
  g.containers = {{"created", 0}, {"running", 0}, {"exited", 0}, {"unknown", 0}};
  std::set<std::string> monitors;  // a pod's monitor lives while it holds any container of the pod
  for (const auto& c : containers.list()) {
    static const char* const kNames[] = {"created", "running", "exited", "unknown"};
    ++g.containers[kNames[static_cast<int>(c.state)]];
    if (!c.monitor_dir.empty()) monitors.insert(c.monitor_dir);
  }
  g.monitors = monitors.size();
  for (const auto& [kind, n] : streams.sessions_by_kind()) g.streaming_sessions[kind] = n;
  return g;
}

void block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int run_daemon(const conf::Options& options, conf::Config config) {
  // glibc gives each thread that allocates an arena of its own, up to 16 on
  // two cores; the daemon's 35 threads allocate little and rarely at once.
  // Two arenas keep about 0.9 MiB less resident after a pull and ten pods.
  ::mallopt(M_ARENA_MAX, 2);
  apply_logging(config);
  make_private_dir(config.root, "root");
  make_private_dir(config.state, "state");

  ConfigStore store(config);
  metrics::Registry registry(kVersion);
  std::unique_ptr<metrics::HttpServer> metrics_http;
  if (config.metrics.enabled)
    metrics_http = std::make_unique<metrics::HttpServer>(config.metrics.address, [&registry] { return registry.render(); });

  WorkPool pool(kWorkThreads);
  const TestHooks hooks = TestHooks::from_environment();
  Rpc rpc(registry, pool, hooks);
  cni::Cni cni(config.root + "/cni-cache", config.network.cni_plugin_timeout);
  cni.set_observer([&registry](const std::string& op, double seconds) { registry.observe_cni(op, seconds); });
  // Rootless: the pods' network namespace and slirp4netns, before any plugin runs.
  std::unique_ptr<sandbox::RootlessNetwork> pod_network;
  if (sandbox::RootlessNetwork::needed()) {
    pod_network = std::make_unique<sandbox::RootlessNetwork>(config.state);
    cni.run_plugins_in(pod_network->netns_path(), config.root + "/cni-networks",
                       [net = pod_network.get()] { return net->problem(); });
  }
  sandbox::Sandboxes sandboxes(config.root, config.state, cni, sandbox::default_pause_binary());
  sandboxes.forward_host_ports_through(pod_network.get());
  sandboxes.load();
  if (pod_network) {
    std::vector<cni::PortMapping> live;
    for (const auto& p : sandboxes.list())
      if (p.cni_attached) live.insert(live.end(), p.spec.port_mappings.begin(), p.spec.port_mappings.end());
    pod_network->keep_only(live);
  }
  cni.gc(config.network, sandboxes.attached_ids());
  sandboxes.sweep();  // after the CNI DELs, which want the netns pins still there
  image::Images images(config.root,
                       (std::filesystem::path(options.config_file).parent_path() / "certs.d").string(),
                       image::helper_pull_runner(image::default_pull_binary()),
                       {.bytes = [&registry](uint64_t n) { registry.add_image_pull_bytes(n); },
                        .layer_reused = [&registry] { registry.add_image_layer_reuse(); }});
  // Before the containers: their exit watch may report until they are gone.
  ContainerEvents events(registry, hooks.event_queue(ContainerEvents::kQueue));
  container::Containers containers(config.root, config.state, sandboxes, images, container::default_monitor_binary());
  containers.set_listener([&](const container::ContainerEvent& e) {
    const auto event = describe(e, sandboxes, containers);
    if (e.kind == container::Event::stopped)
      for (const auto& c : event.containers_statuses())
        if (c.id() == e.container_id) registry.add_container_exit(c.reason().empty() ? "Unknown" : c.reason());
    events.publish(event);
  });
  containers.load();
  events.started();
  StreamBackend stream_backend(containers, sandboxes);
  streaming::ServerOptions stream_options;
  stream_options.address = config.streaming.address;
  stream_options.port = config.streaming.port;
  stream_options.tls_cert = config.streaming.tls_cert;
  stream_options.tls_key = config.streaming.tls_key;
  stream_options.idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(config.streaming.idle_timeout);
  stream_options.max_sessions = static_cast<size_t>(config.streaming.max_sessions);
  streaming::Server streams(stream_options, stream_backend);
  RuntimeService runtime_service(store, rpc, sandboxes, containers, cni, streams, events, images);
  registry.set_gauges([&] { return gauges(sandboxes, containers, streams); });
  // Scrapes may come until the end, and what the gauges read goes first.
  struct ForgetGauges {
    metrics::Registry& r;
    ~ForgetGauges() { r.set_gauges(nullptr); }
  } forget_gauges{registry};
  ImageService image_service(store, rpc, images, registry);

  SocketClaim socket(config.listen);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket.path(), grpc::InsecureServerCredentials());
  builder.RegisterService(&runtime_service);
  builder.RegisterService(&image_service);
  builder.SetMaxReceiveMessageSize(kGrpcMessageLimit);
  builder.SetMaxSendMessageSize(kGrpcMessageLimit);
  // The socket is created by gRPC; the umask keeps it from ever being
  // world-accessible before restrict_mode() sets 0660.
  const mode_t old_umask = ::umask(0117);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ::umask(old_umask);
  if (!server) throw Internal("gRPC could not listen on " + socket.path());
  socket.restrict_mode();

  log::info("crius is serving the CRI",
            {{"version", kVersion},
             {"socket", socket.path()},
             {"root", config.root},
             {"state", config.state},
             {"cgroup_driver", config.cgroup_driver},
             {"metrics", metrics_http ? metrics_http->bound_address() : std::string("disabled")},
             {"streaming_port", std::to_string(streams.port())}});

  const sigset_t set = handled_signals();
  int sig = 0;
  for (;;) {
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGHUP) break;
    reload(options, store, [&cni](const conf::Config& c) { cni.set_timeout(c.network.cni_plugin_timeout); });
  }
  // Calls in flight get up to the grace to be answered; streams (events,
  // lists) are cut then. Logged once new calls are refused.
  rpc.drain();
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (!rpc.wait_idle(std::chrono::steady_clock::now() + kShutdownGrace))
    log::warn("calls still running after the shutdown grace are cancelled",
              {{"grace", std::to_string(kShutdownGrace.count()) + "s"}});
  server->Shutdown(std::chrono::system_clock::now() + kSendGrace);
  pool.join();
  server.reset();
  // Pods outlive a restart, and so does their network; without pods it goes.
  if (sandboxes.list().empty()) {
    if (pod_network) pod_network->stop();
    if (options.user) release_rootless_namespaces(config.state);
  }
  log::info("stopped", {{"socket", socket.path()}});
  return 0;
}

}  // namespace crius::server
