#include "conf/keys.h"

#include <algorithm>

namespace crius::conf {
namespace {

using enum FlagValue;

constexpr Key kKeys[] = {
    {.path = "root", .value = text, .meta = "DIR", .help = "images, layers, container and sandbox records"},
    {.path = "state", .value = text, .meta = "DIR",
     .help = "runtime state: the socket, pinned namespaces, monitor sockets"},
    {.path = "listen", .value = text, .meta = "PATH",
     .help = "unix socket of the CRI gRPC API (a unix:// prefix is accepted)",
     .default_note = "<state>/crius.sock"},
    {.path = "log_level", .value = text, .meta = "LEVEL", .help = "trace, debug, info, warn or error"},
    {.path = "log_format", .value = text, .meta = "FORMAT",
     .help = "logfmt (key=value) or json (one object per line) for the daemon's log on stderr"},
    {.path = "cgroup_driver", .value = text, .meta = "DRIVER", .help = "cgroupfs or systemd",
     .default_note = "systemd if /run/systemd/system exists, else cgroupfs"},
    {.path = "network.cni_config_dir", .value = text, .meta = "DIR",
     .help = "CNI network configs; the first one is used", .alias = "--cni-config-dir"},
    {.path = "network.cni_plugin_dirs", .value = list, .meta = "DIRS",
     .help = "where CNI plugin binaries are looked for, comma-separated", .alias = "--cni-plugin-dirs"},
    {.path = "network.cni_plugin_timeout", .value = yaml, .meta = "DURATION",
     .help = "a CNI plugin call that takes longer is killed (30s, 2m; a bare number is seconds)"},
    {.path = "image.registries", .value = yaml, .meta = "YAML",
     .help = "[{prefix, location, insecure, mirrors: [{location, insecure}]}]; replaces the list"},
    {.path = "image.short_name_search", .value = list, .meta = "HOSTS",
     .help = "registries tried in order for a short image name, comma-separated"},
    {.path = "image.pull_progress_timeout", .value = yaml, .meta = "DURATION",
     .help = "cancel a pull that makes no progress for this long (90s, 2m; a bare number is seconds)"},
    {.path = "image.max_parallel_layers", .value = yaml, .meta = "N",
     .help = "layers downloaded at once per pull, 1 to 64"},
    {.path = "image.pinned_images", .value = list, .meta = "REFS",
     .help = "images reported as pinned (never garbage-collected by kubelet), comma-separated"},
    {.path = "runtime.default_handler", .value = text, .meta = "NAME",
     .help = "handler for pods that name no RuntimeClass handler"},
    {.path = "runtime.handlers", .value = yaml, .meta = "YAML",
     .help = "{name: {type: builtin|oci, path: PATH}}; merged by name into the built-in ones"},
    {.path = "runtime.default_capabilities", .value = list, .meta = "CAPS",
     .help = "capabilities of a container before its own add/drop, comma-separated (CHOWN or CAP_CHOWN)"},
    {.path = "runtime.pids_limit", .value = yaml, .meta = "N",
     .help = "most processes in each container's cgroup; 0 or -1 for no limit"},
    {.path = "runtime.shm_size", .value = yaml, .meta = "BYTES",
     .help = "size of each pod's /dev/shm: bytes, or with a suffix K, Ki, M, Mi, G, Gi"},
    {.path = "runtime.cdi_spec_dirs", .value = list, .meta = "DIRS",
     .help = "CDI device spec directories, comma-separated; a later one wins for the same device"},
    {.path = "runtime.disk_usage_period", .value = yaml, .meta = "DURATION",
     .help = "walk the writable layers for the stats List RPCs this often while they are asked for; 0 to walk on every call"},
    {.path = "streaming.address", .value = text, .meta = "IP",
     .help = "IP address of the exec/attach/port-forward server"},
    {.path = "streaming.port", .value = yaml, .meta = "PORT",
     .help = "port of the streaming server, 0 for an ephemeral one"},
    {.path = "streaming.tls_cert", .value = text, .meta = "PATH",
     .help = "PEM certificate chain of the streaming server; with tls_key, it serves https"},
    {.path = "streaming.tls_key", .value = text, .meta = "PATH", .help = "PEM private key for streaming.tls_cert"},
    {.path = "streaming.idle_timeout", .value = yaml, .meta = "DURATION",
     .help = "close a stream with no traffic for this long; 0 for never"},
    {.path = "streaming.max_sessions", .value = yaml, .meta = "N",
     .help = "most exec/attach/port-forward sessions at once; more are answered 429"},
    {.path = "metrics.enabled", .value = yaml, .meta = "BOOL", .help = "serve Prometheus metrics: true or false"},
    {.path = "metrics.address", .value = text, .meta = "HOST:PORT",
     .help = "where metrics are served: IP:port, [IPv6]:port or localhost:port"},
};

}  // namespace

std::span<const Key> config_keys() { return kKeys; }

std::string flag_for(std::string_view key_path) {
  std::string flag = "--" + std::string(key_path);
  std::replace_if(flag.begin(), flag.end(), [](char c) { return c == '.' || c == '_'; }, '-');
  return flag;
}

const Key* find_flag(std::string_view flag) {
  for (const Key& k : kKeys)
    if (flag_for(k.path) == flag || (!k.alias.empty() && k.alias == flag)) return &k;
  return nullptr;
}

}  // namespace crius::conf
