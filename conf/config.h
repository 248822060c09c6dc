// The crius configuration model: every key an operator can set, with its
// built-in default. Loading, validation and printing live beside it (load.h).
// Equality is member-wise, so a reload can tell what changed and tests can
// check that printing and loading again gives the same config.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace crius::conf {

// A registry mirror, tried in order before the registry's own location.
struct Mirror {
  std::string location;   // host[:port][/path], no scheme
  bool insecure = false;  // plain HTTP and unverified TLS allowed

  bool operator==(const Mirror&) const = default;
};

// One entry of image.registries, with the meaning of containers-registries.conf:
// `prefix` is matched against a normalized reference and `location` replaces it.
struct Registry {
  std::string prefix;
  std::string location;  // empty: the prefix itself
  bool insecure = false;
  std::vector<Mirror> mirrors;

  bool operator==(const Registry&) const = default;
};

// A runtime handler (CRI RuntimeClass handler name -> OCI runtime).
struct Handler {
  std::string type;  // "builtin" (the crius library) or "oci" (an external runc-compatible binary)
  std::string path;  // for "oci": an absolute path, or a bare name looked up in PATH when used

  bool operator==(const Handler&) const = default;
};

struct NetworkConfig {
  std::string cni_config_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_plugin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  std::chrono::milliseconds cni_plugin_timeout = std::chrono::minutes(1);  // each plugin call

  bool operator==(const NetworkConfig&) const = default;
};

struct ImageConfig {
  std::vector<Registry> registries;
  std::vector<std::string> short_name_search = {"docker.io"};
  std::chrono::milliseconds pull_progress_timeout = std::chrono::minutes(1);
  int max_parallel_layers = 3;
  std::vector<std::string> pinned_images;  // references kept from garbage collection (ImageStatus pinned)

  bool operator==(const ImageConfig&) const = default;
};

struct RuntimeConfig {
  std::string default_handler = "crius";
  std::map<std::string, Handler> handlers = {
      {"crius", {"builtin", ""}},
      {"runc", {"oci", "runc"}},
      {"crun", {"oci", "crun"}},
  };
  // A container's capabilities before its own add/drop (names without CAP_), as cri-o's default set.
  std::vector<std::string> default_capabilities = {"CHOWN",  "DAC_OVERRIDE", "FSETID",           "FOWNER", "SETGID",
                                                   "SETUID", "SETPCAP",      "NET_BIND_SERVICE", "KILL"};
  int pids_limit = 0;  // each container's pids.max; 0 or -1: none
  std::int64_t shm_size = 64 << 20;  // bytes of each pod's /dev/shm tmpfs
  // CDI spec directories, watched; for the same device a later one wins over an earlier one.
  std::vector<std::string> cdi_spec_dirs = {"/etc/cdi", "/var/run/cdi"};
  // How often the writable layers' usage behind the stats List RPCs and pod
  // metrics is walked again while somebody lists (cgroups are read on every
  // call); 0: every call walks every layer itself.
  std::chrono::milliseconds disk_usage_period{std::chrono::seconds(10)};

  bool operator==(const RuntimeConfig&) const = default;
};

struct StreamingConfig {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port chosen at start
  std::string tls_cert, tls_key;  // both set: the server speaks TLS (https URLs)
  std::chrono::milliseconds idle_timeout{0};  // a session with no traffic for this long is closed; 0: never
  int max_sessions = 512;  // concurrent sessions; past it a client gets 429

  bool operator==(const StreamingConfig&) const = default;
};

struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1:9090";  // host:port

  bool operator==(const MetricsConfig&) const = default;
};

struct Config {
  std::string root = "/var/lib/crius";
  std::string state = "/run/crius";
  std::string listen;  // empty in the model means <state>/crius.sock; load() fills it in
  std::string log_level = "info";  // trace, debug, info, warn, error
  std::string log_format = "logfmt";  // logfmt or json
  std::string cgroup_driver;       // "cgroupfs" or "systemd"; load() fills in the default
  NetworkConfig network;
  ImageConfig image;
  RuntimeConfig runtime;
  StreamingConfig streaming;
  MetricsConfig metrics;

  bool operator==(const Config&) const = default;
};

// A config that cannot be accepted. what() names the source (file path or
// command-line flag), the key and the reason, e.g.
//   "/etc/crius/crius.d/10-net.yaml: network.cni_config_dir: must be an absolute path"
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace crius::conf
