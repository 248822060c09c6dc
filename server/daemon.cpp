// services.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "server/services.h"
//
#include "server/daemon.h"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>

#include "base/error.h"
#include "base/log.h"
#include "base/version.h"
#include "server/metrics/http_server.h"
#include "server/stream_backend.h"
#include "sandbox/pause.h"
#include "server/socket_claim.h"

namespace crius::server {
namespace {

constexpr int kGrpcMessageLimit = 16 * 1024 * 1024;  // as containerd and cri-o allow
constexpr size_t kWorkThreads = 16;
constexpr auto kShutdownGrace = std::chrono::seconds(5);

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

void apply_log_level(const conf::Config& c) {
  if (auto l = log::parse_level(c.log_level)) log::set_level(*l);
}

// SIGHUP: re-read files and flags; keep what only a restart can change.
void reload(const conf::Options& options, ConfigStore& store) {
  try {
    conf::Config next = conf::load(options);
    auto current = store.get();
    for (auto [key, now, wanted] : {std::tuple{"root", &current->root, &next.root},
                                    std::tuple{"state", &current->state, &next.state},
                                    std::tuple{"listen", &current->listen, &next.listen}}) {
      if (*now != *wanted) {
        log::warn("config key needs a restart to change; keeping the current value",
                  {{"key", key}, {"current", *now}, {"wanted", *wanted}});
        *wanted = *now;
      }
    }
    apply_log_level(next);
    store.set(std::move(next));
    log::info("config reloaded", {{"log_level", log::level_name(log::level())}});
  } catch (const std::exception& e) {
    log::error("config reload failed; keeping the current config", {{"error", e.what()}});
  }
}

}  // namespace

void block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int run_daemon(const conf::Options& options, conf::Config config) {
  apply_log_level(config);
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
  sandbox::Sandboxes sandboxes(config.root, config.state, cni, sandbox::default_pause_binary());
  sandboxes.load();
  cni.gc(config.network, sandboxes.attached_ids());
  image::Images images(config.root,
                       (std::filesystem::path(options.config_file).parent_path() / "certs.d").string(),
                       {.bytes = [&registry](uint64_t n) { registry.add_image_pull_bytes(n); },
                        .layer_reused = [&registry] { registry.add_image_layer_reuse(); }});
  container::Containers containers(config.root, config.state, sandboxes, images, container::default_monitor_binary());
  containers.load();
  StreamBackend stream_backend(containers, sandboxes);
  streaming::ServerOptions stream_options;
  stream_options.address = config.streaming.address;
  stream_options.port = config.streaming.port;
  stream_options.tls_cert = config.streaming.tls_cert;
  stream_options.tls_key = config.streaming.tls_key;
  stream_options.idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(config.streaming.idle_timeout);
  stream_options.max_sessions = static_cast<size_t>(config.streaming.max_sessions);
  streaming::Server streams(stream_options, stream_backend);
  RuntimeService runtime_service(store, rpc, sandboxes, containers, cni, streams);
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
    reload(options, store);
  }
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  pool.join();
  server.reset();
  log::info("stopped", {{"socket", socket.path()}});
  return 0;
}

}  // namespace crius::server
