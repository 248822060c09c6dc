// Checks on the merged config. Every problem is reported at once, each naming
// the source that last set the key, so one edit fixes them all.
#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "conf/layer.h"
#include "conf/load.h"

namespace crius::conf {
namespace {

// Linux capability names up to CAP_CHECKPOINT_RESTORE (conf/ cannot use
// oci/'s table: the dependency goes the other way).
bool is_capability(std::string name) {
  static const std::set<std::string> known = {
      "CHOWN",          "DAC_OVERRIDE",    "DAC_READ_SEARCH", "FOWNER",        "FSETID",       "KILL",
      "SETGID",         "SETUID",          "SETPCAP",         "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
      "NET_BROADCAST",  "NET_ADMIN",       "NET_RAW",         "IPC_LOCK",      "IPC_OWNER",    "SYS_MODULE",
      "SYS_RAWIO",      "SYS_CHROOT",      "SYS_PTRACE",      "SYS_PACCT",     "SYS_ADMIN",    "SYS_BOOT",
      "SYS_NICE",       "SYS_RESOURCE",    "SYS_TIME",        "SYS_TTY_CONFIG", "MKNOD",       "LEASE",
      "AUDIT_WRITE",    "AUDIT_CONTROL",   "SETFCAP",         "MAC_OVERRIDE",  "MAC_ADMIN",    "SYSLOG",
      "WAKE_ALARM",     "BLOCK_SUSPEND",   "AUDIT_READ",      "PERFMON",       "BPF",          "CHECKPOINT_RESTORE",
  };
  if (name.starts_with("CAP_")) name = name.substr(4);
  return known.contains(name);
}

bool is_ipv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// Decimal digits only, as in "host:port".
std::optional<int> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return std::nullopt;
  return port;
}

bool is_hostname(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.';
  });
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// What is wrong with a "host[:port][/path]" registry location, if anything.
std::optional<std::string> location_problem(std::string_view loc, bool path_allowed) {
  const std::string shape = path_allowed ? "host[:port][/path]" : "a registry host[:port]";
  if (loc.empty()) return "must not be empty";
  if (auto scheme = loc.find("://"); scheme != std::string_view::npos) {
    std::string s(loc.substr(0, scheme + 3));
    std::string fix = s == "http://" ? "; set insecure: true for plain HTTP" : "";
    return "must be " + shape + " without a scheme: drop " + in_quotes(s) + fix;
  }
  if (has_space(loc)) return "must not contain spaces, got " + in_quotes(loc);
  std::size_t slash = loc.find('/');
  std::string_view host_port = loc.substr(0, slash);
  if (slash != std::string_view::npos) {
    if (!path_allowed) return "must be a registry host name without a path, got " + in_quotes(loc);
    if (slash + 1 == loc.size()) return "must not end with '/', got " + in_quotes(loc);
  }
  std::string_view port;
  bool host_ok;
  if (host_port.starts_with('[')) {
    std::size_t close = host_port.find(']');
    host_ok = close != std::string_view::npos && is_ipv6(std::string(host_port.substr(1, close - 1)));
    if (host_ok && close + 1 < host_port.size()) {
      host_ok = host_port[close + 1] == ':';
      port = host_port.substr(close + 2);
      if (!host_ok || port.empty()) host_ok = false;
    }
  } else {
    std::size_t colon = host_port.find(':');
    host_ok = is_hostname(host_port.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = host_port.substr(colon + 1);
      if (port.empty()) host_ok = false;
    }
  }
  if (!host_ok) return "must be " + shape + ", got " + in_quotes(loc);
  if (!port.empty()) {
    auto p = parse_port(port);
    if (!p || *p == 0) return "port must be between 1 and 65535, got " + in_quotes(loc);
  }
  return std::nullopt;
}

// RFC 1123 label, as Kubernetes requires of a RuntimeClass handler.
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto inner = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  return std::all_of(s.begin(), s.end(), inner) && s.front() != '-' && s.back() != '-';
}

class Checker {
 public:
  explicit Checker(const Origins& origins) : origins_(origins) {}

  void bad(const std::string& key, const std::string& why) {
    // Not `"\n" + ...`: that trips GCC 12's -Wrestrict false positive at -O3.
    if (!problems_.empty()) problems_ += '\n';
    problems_ += origins_.source_of(key) + ": " + key + ": " + why;
  }

  void absolute(const std::string& key, const std::string& path) {
    if (!path.starts_with('/')) bad(key, "must be an absolute path, got " + in_quotes(path));
  }

  void one_of(const std::string& key, const std::string& value, std::initializer_list<std::string_view> allowed) {
    std::string list;
    for (auto a : allowed) {
      if (a == value) return;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    bad(key, "must be one of " + list + ", got " + in_quotes(value));
  }

  void port(const std::string& key, int port) {
    if (port < 0 || port > 65535) bad(key, "must be between 0 and 65535, got " + std::to_string(port));
  }

  void check(const Config& c) {
    absolute("root", c.root);
    absolute("state", c.state);
    absolute("listen", c.listen);
    // sun_path holds the path and its terminating NUL.
    if (c.listen.size() >= sizeof(sockaddr_un::sun_path))
      bad("listen", "a unix socket path must be shorter than " + std::to_string(sizeof(sockaddr_un::sun_path)) +
                        " bytes, got " + std::to_string(c.listen.size()));
    one_of("log_level", c.log_level, {"trace", "debug", "info", "warn", "error"});
    one_of("log_format", c.log_format, {"logfmt", "json"});
    one_of("cgroup_driver", c.cgroup_driver, {"cgroupfs", "systemd"});
    network(c.network);
    image(c.image);
    runtime(c.runtime);
    if (!is_ipv4(c.streaming.address) && !is_ipv6(c.streaming.address))
      bad("streaming.address", "must be an IPv4 or IPv6 address, got " + in_quotes(c.streaming.address));
    port("streaming.port", c.streaming.port);
    if (c.streaming.tls_cert.empty() != c.streaming.tls_key.empty())
      bad(c.streaming.tls_cert.empty() ? "streaming.tls_cert" : "streaming.tls_key",
          "streaming.tls_cert and streaming.tls_key must be set together");
    if (c.streaming.idle_timeout < std::chrono::milliseconds(0))
      bad("streaming.idle_timeout", "must not be negative, got " + in_quotes(format_duration(c.streaming.idle_timeout)));
    if (c.streaming.max_sessions < 1)
      bad("streaming.max_sessions", "must be at least 1, got " + std::to_string(c.streaming.max_sessions));
    metrics_address(c.metrics.address);
    if (!problems_.empty()) throw ConfigError(problems_);
  }

 private:
  void network(const NetworkConfig& n) {
    absolute("network.cni_config_dir", n.cni_config_dir);
    if (n.cni_plugin_dirs.empty()) bad("network.cni_plugin_dirs", "must list at least one directory");
    for (std::size_t i = 0; i < n.cni_plugin_dirs.size(); ++i)
      absolute("network.cni_plugin_dirs[" + std::to_string(i) + "]", n.cni_plugin_dirs[i]);
    if (n.cni_plugin_timeout <= std::chrono::milliseconds(0))
      bad("network.cni_plugin_timeout",
          "must be greater than 0, got " + in_quotes(format_duration(n.cni_plugin_timeout)));
  }

  void image(const ImageConfig& im) {
    std::map<std::string, std::size_t> prefixes;
    for (std::size_t i = 0; i < im.registries.size(); ++i) {
      const Registry& r = im.registries[i];
      std::string key = "image.registries[" + std::to_string(i) + "]";
      if (r.prefix.empty()) {
        bad(key + ".prefix", "must not be empty");
      } else if (r.prefix.find("://") != std::string::npos || has_space(r.prefix)) {
        bad(key + ".prefix", "must be an image reference prefix such as docker.io/library, got " + in_quotes(r.prefix));
      } else if (auto [it, added] = prefixes.emplace(r.prefix, i); !added) {
        bad(key + ".prefix",
            "duplicate prefix " + in_quotes(r.prefix) + ", already in image.registries[" + std::to_string(it->second) + "]");
      }
      if (!r.location.empty())
        if (auto why = location_problem(r.location, true)) bad(key + ".location", *why);
      for (std::size_t j = 0; j < r.mirrors.size(); ++j)
        if (auto why = location_problem(r.mirrors[j].location, true))
          bad(key + ".mirrors[" + std::to_string(j) + "].location", *why);
    }
    for (std::size_t i = 0; i < im.short_name_search.size(); ++i)
      if (auto why = location_problem(im.short_name_search[i], false))
        bad("image.short_name_search[" + std::to_string(i) + "]", *why);
    if (im.pull_progress_timeout <= std::chrono::milliseconds(0))
      bad("image.pull_progress_timeout",
          "must be greater than 0, got " + in_quotes(format_duration(im.pull_progress_timeout)));
    if (im.max_parallel_layers < 1 || im.max_parallel_layers > 64)
      bad("image.max_parallel_layers", "must be between 1 and 64, got " + std::to_string(im.max_parallel_layers));
  }

  void runtime(const RuntimeConfig& r) {
    for (const auto& [name, h] : r.handlers) {
      std::string key = "runtime.handlers." + (name.empty() ? std::string("\"\"") : name);
      if (!is_dns_label(name))
        bad(key, "a handler name must be a DNS label ([a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters)");
      if (h.type == "oci") {
        if (h.path.empty())
          bad(key + ".path", "required for type oci: an absolute path, or a command name looked up in PATH");
        else if (h.path.find('/') != std::string::npos && !h.path.starts_with('/'))
          bad(key + ".path", "must be an absolute path or a bare command name, got " + in_quotes(h.path));
      } else if (h.type == "builtin") {
        if (!h.path.empty()) bad(key + ".path", "must be empty for type builtin, got " + in_quotes(h.path));
      } else {
        bad(key + ".type", "must be builtin or oci, got " + in_quotes(h.type));
      }
    }
    if (!r.handlers.contains(r.default_handler))
      bad("runtime.default_handler", "no handler named " + in_quotes(r.default_handler) + " in runtime.handlers");
    for (std::size_t i = 0; i < r.default_capabilities.size(); ++i)
      if (!is_capability(r.default_capabilities[i]))
        bad("runtime.default_capabilities[" + std::to_string(i) + "]",
            "unknown capability " + in_quotes(r.default_capabilities[i]) + " (expected a name like CHOWN or CAP_CHOWN)");
    if (r.pids_limit < -1)
      bad("runtime.pids_limit", "must be -1, 0 (no limit) or a positive number, got " + std::to_string(r.pids_limit));
    // tmpfs rounds to pages; below one page /dev/shm would be unusable.
    if (r.shm_size < 4096)
      bad("runtime.shm_size", "must be at least 4096 bytes, got " + std::to_string(r.shm_size));
    for (std::size_t i = 0; i < r.cdi_spec_dirs.size(); ++i)
      absolute("runtime.cdi_spec_dirs[" + std::to_string(i) + "]", r.cdi_spec_dirs[i]);
    if (r.disk_usage_period < std::chrono::milliseconds(0))
      bad("runtime.disk_usage_period", "must not be negative, got " + in_quotes(format_duration(r.disk_usage_period)));
  }

  void metrics_address(const std::string& address) {
    const std::string key = "metrics.address";
    std::size_t colon = address.rfind(':');
    if (colon == std::string::npos) return bad(key, "must be host:port, got " + in_quotes(address));
    std::string host = address.substr(0, colon);
    bool host_ok;
    if (host.starts_with('[') && host.ends_with(']')) {
      host_ok = is_ipv6(host.substr(1, host.size() - 2));
    } else if (host.find(':') != std::string::npos) {
      return bad(key, "an IPv6 address must be in brackets, as in [::1]:9090, got " + in_quotes(address));
    } else {
      host_ok = host == "localhost" || is_ipv4(host);
    }
    if (!host_ok) bad(key, "host must be an IP address or localhost, got " + in_quotes(address));
    if (!parse_port(address.substr(colon + 1)))
      bad(key, "port must be between 0 and 65535, got " + in_quotes(address));
  }

  const Origins& origins_;
  std::string problems_;
};

}  // namespace

void validate(const Config& config, const Origins& origins) { Checker(origins).check(config); }

}  // namespace crius::conf
