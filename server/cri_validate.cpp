#include "server/cri_validate.h"

#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace crius::server {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;
using StringMap = google::protobuf::Map<std::string, std::string>;
using Strings = google::protobuf::RepeatedPtrField<std::string>;

// A Kubernetes name is at most 253 bytes (a DNS subdomain; kubelet checks
// static pods' too) and a UID 36; four times that still bounds what every
// log line, record and CNI_ARGS entry carries.
constexpr size_t kMaxName = 1024;
// The kernel takes no longer path (ENAMETOOLONG).
constexpr size_t kMaxPath = PATH_MAX;
// Labels, and annotations, keys and values together, per map. All kubelet
// sends comes from one API object, which etcd keeps under 1.5 MiB (and the
// API server caps its annotations at 256 KiB).
constexpr size_t kMaxMetadataBytes = 2u << 20;
// image/reference.cpp's own limit. The longest valid reference is about 520
// bytes: a 255-byte name, a 128-byte tag and a sha512 digest.
constexpr size_t kMaxImageRef = 4096;

// A value as a message shows it: control bytes and quotes escaped, at most
// `most` bytes of it, and then its size.
std::string shown(std::string_view v, size_t most = 64) {
  std::string out = "\"";
  for (size_t i = 0; i < v.size() && i < most; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "\"";
  if (v.size() > most) out += "… (" + std::to_string(v.size()) + " bytes)";
  return out;
}

[[noreturn]] void refuse(const std::string& field, std::string_view value, const std::string& why) {
  throw InvalidArgument(field + ": " + shown(value) + " " + why);
}

std::optional<unsigned char> control_byte(std::string_view v) {
  for (char ch : v)
    if (const auto c = static_cast<unsigned char>(ch); c < 0x20 || c == 0x7f) return c;
  return std::nullopt;
}

std::string byte_name(unsigned char c) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", c);
  return c == 0 ? "a NUL byte" : std::string("the control character ") + hex;
}

void no_control(std::string_view v, const std::string& field) {
  if (auto c = control_byte(v)) refuse(field, v, "contains " + byte_name(*c));
}

// Pod and container names: kubelet sends DNS labels and subdomains and
// UUIDs. A '/' would split any path made of them, and the pod's also go into
// CNI_ARGS, whose entries ';' separates (a ';' would add entries of its own).
void check_name(std::string_view v, const std::string& field, bool in_cni_args) {
  if (v.size() > kMaxName) refuse(field, v, "is longer than " + std::to_string(kMaxName) + " bytes");
  no_control(v, field);
  if (v.find('/') != std::string_view::npos) refuse(field, v, "contains '/'");
  if (in_cni_args && v.find(';') != std::string_view::npos)
    refuse(field, v, "contains ';', which separates the entries of CNI_ARGS");
}

bool has_dot_dot(const fs::path& p) {
  return std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; });
}

// A path field's common rules: no longer than the kernel takes, no NUL (the
// kernel would read a shorter path than the one checked).
void check_path_text(std::string_view v, const std::string& field) {
  if (v.size() > kMaxPath) refuse(field, v, "is longer than " + std::to_string(kMaxPath) + " bytes");
  if (v.find('\0') != std::string_view::npos) refuse(field, v, "contains a NUL byte");
}

// kubelet sends /var/log/pods/<namespace>_<name>_<uid>; cri-o also refuses
// a relative one. A ".." would put the containers' logs anywhere.
void check_log_directory(const std::string& dir) {
  if (dir.empty()) return;  // no logs
  const std::string field = "config.log_directory";
  check_path_text(dir, field);
  no_control(dir, field);
  if (dir.front() != '/') refuse(field, dir, "must be an absolute path");
  if (has_dot_dot(dir)) refuse(field, dir, "must not contain a \"..\" component");
}

// kubelet sends <container name>/<restart count>.log, under the pod's
// log_directory, which it must not leave.
void check_log_path(const std::string& path) {
  if (path.empty()) return;
  const std::string field = "config.log_path";
  check_path_text(path, field);
  no_control(path, field);
  if (path.front() == '/') refuse(field, path, "must be relative to the pod's log_directory");
  if (has_dot_dot(path)) refuse(field, path, "must not contain a \"..\" component");
}

void check_map_size(const StringMap& m, const std::string& field) {
  size_t bytes = 0;
  for (const auto& [k, v] : m) bytes += k.size() + v.size();
  if (bytes > kMaxMetadataBytes)
    throw InvalidArgument(field + ": " + std::to_string(m.size()) + " entries of " + std::to_string(bytes) +
                          " bytes in all, more than the " + std::to_string(kMaxMetadataBytes) +
                          " bytes a Kubernetes object can carry");
}

void check_image_size(const std::string& ref, const std::string& field) {
  if (ref.size() > kMaxImageRef)
    refuse(field, ref, "is longer than " + std::to_string(kMaxImageRef) + " bytes, which no image reference is");
}

// What execve(2) takes: each string at most 32 pages (MAX_ARG_STRLEN), all
// of them with their pointers at most a quarter of the stack limit the
// process starts with (the daemon's, which the monitor and the container
// inherit), never more than 6 MiB. Past that the process could only fail to
// start with E2BIG, after its bundle, record and monitor were made.
struct ExecBudget {
  size_t per_string, total;
};

ExecBudget exec_budget() {
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t total = 6u << 20;
  rlimit rl{};
  if (::getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    total = std::min<size_t>(total, static_cast<size_t>(rl.rlim_cur / 4));
  return {32 * page, std::max(total, 32 * page)};
}

// Adds one execve string (with its NUL and pointer) to `used`, refusing one
// that is alone too long. `what` says which it is without the megabytes.
void count_exec_string(size_t length, const std::string& field, const std::string& what, const ExecBudget& b,
                       size_t& used) {
  if (length + 1 > b.per_string)
    throw InvalidArgument(field + ": " + what + " is " + std::to_string(length) + " bytes; execve(2) takes at most " +
                          std::to_string(b.per_string - 1) + " per string");
  used += length + 1 + sizeof(char*);
}

void check_exec_total(size_t used, const std::string& fields, const ExecBudget& b) {
  if (used > b.total)
    throw InvalidArgument(fields + ": " + std::to_string(used) + " bytes in all, more than the " +
                          std::to_string(b.total) + " execve(2) takes under the stack limit");
}

// `p` without ".", ".." or a trailing separator, as written (no link followed).
fs::path normal(const std::string& p) {
  fs::path n = fs::path(p).lexically_normal();
  if (!n.has_filename() && n != n.root_path()) n = n.parent_path();
  return n;
}

// Where `p` (absolute, normalized) leads, and every place the walk passes
// on the way: its symbolic links followed as the kernel would (dangling ones
// too, at most 40), a missing rest appended as written. Magic links of /proc
// resolve as the daemon's own (/proc/self is the daemon, /proc/self/root its
// root), which is why the way matters and not only the end.
struct Walk {
  fs::path end;
  std::vector<fs::path> passed;  // each directory or link reached, in order; the end last
};

Walk resolve(const fs::path& p, const std::string& field) {
  std::deque<fs::path> rest(p.begin(), p.end());
  Walk w;
  fs::path done = "/";
  int links = 0;
  while (!rest.empty()) {
    const fs::path part = rest.front();
    rest.pop_front();
    if (part == "/" || part == "." || part.empty()) continue;
    if (part == "..") {
      done = done.parent_path();
      continue;
    }
    const fs::path next = done / part;
    w.passed.push_back(next);
    std::error_code ec;
    const auto st = fs::symlink_status(next, ec);
    if (ec || !fs::exists(st)) {
      fs::path out = next;
      for (const auto& r : rest) out /= r;
      w.end = normal(out.string());
      w.passed.push_back(w.end);
      return w;
    }
    if (!fs::is_symlink(st)) {
      done = next;
      continue;
    }
    if (++links > 40) refuse(field, p.string(), "has too many levels of symbolic links");
    const fs::path target = fs::read_symlink(next, ec);
    if (ec) refuse(field, p.string(), "cannot be resolved: reading the link " + next.string() + ": " + ec.message());
    if (target.is_absolute()) done = "/";
    std::vector<fs::path> parts(target.begin(), target.end());
    rest.insert(rest.begin(), parts.begin(), parts.end());
  }
  w.end = done;
  w.passed.push_back(done);
  return w;
}

// `p` is `dir` or below it, comparing whole components.
bool is_under(const fs::path& p, const fs::path& dir) {
  auto it = p.begin();
  for (const auto& d : dir) {
    if (d.empty()) continue;  // a trailing separator
    if (it == p.end() || *it != d) return false;
    ++it;
  }
  return true;
}

// A place a host path may name, but not pass through when it does not name
// it: only a symbolic link gets it there, and such a link (planted in a
// host directory some pod can write, say) would hand a pod /proc (the
// daemon's own process, the host's PID 1), /sys, or the namespaces, sockets,
// records and layers of every other pod. kubelet sends /proc and /sys
// outright (node exporters), and agents mount a runtime's socket; those pass.
// A link to a parent of such a place ("/", "/run") followed by its name is
// let through: it cannot be told apart from /var/run -> /run.
struct Guarded {
  std::string what;
  std::vector<fs::path> names;  // as configured, and where that leads
};

std::vector<Guarded> guarded_dirs(const conf::Config& daemon) {
  std::vector<Guarded> g{{"/proc", {"/proc"}}, {"/sys", {"/sys"}}};
  const std::pair<const char*, const std::string*> own[] = {{"the daemon's root directory", &daemon.root},
                                                            {"the daemon's state directory", &daemon.state}};
  for (const auto& [what, dir] : own) {
    const fs::path n = normal(*dir);
    g.push_back({std::string(what) + " " + n.string(), {n, resolve(n, "root").end}});
  }
  return g;
}

// The ways the path as written names a place: itself, and through the
// compatibility links FHS 3.0 lets /var/run and /var/lock be (to /run and
// /run/lock): /var/run/crius/crius.sock names the socket under /run/crius.
std::vector<fs::path> written_names(const fs::path& p) {
  std::vector<fs::path> names{p};
  for (const char* compat : {"/var/run", "/var/lock"}) {
    if (!is_under(p, compat)) continue;
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(compat, ec))) continue;
    names.push_back(normal((resolve(compat, "host_path").end / p.lexically_relative(compat)).string()));
  }
  return names;
}

void check_host_path_links(const std::string& host_path, const std::string& field,
                           const std::vector<Guarded>& guarded) {
  const fs::path written = normal(host_path);
  const Walk walk = resolve(written, field);
  const auto names = written_names(written);
  for (const auto& g : guarded) {
    const auto inside = [&](const fs::path& p) {
      return std::any_of(g.names.begin(), g.names.end(), [&](const fs::path& d) { return is_under(p, d); });
    };
    if (std::none_of(walk.passed.begin(), walk.passed.end(), inside)) continue;
    if (std::any_of(names.begin(), names.end(), inside)) continue;  // named outright: meant
    refuse(field, host_path,
           "goes through a symbolic link into " + g.what + " (it resolves to " + walk.end.string() +
               "); a mount of it must name it directly");
  }
}

void check_mounts(const v1::ContainerConfig& c, const conf::Config& daemon) {
  const auto guarded = guarded_dirs(daemon);
  // All paths first, then links: a refusal must come before the daemon
  // creates any missing host directory.
  for (int i = 0; i < c.mounts_size(); ++i) {
    const auto& m = c.mounts(i);
    const std::string field = "config.mounts[" + std::to_string(i) + "]";
    // kubelet makes every container path absolute (makeMounts).
    check_path_text(m.container_path(), field + ".container_path");
    if (m.container_path().empty() || m.container_path().front() != '/')
      refuse(field + ".container_path", m.container_path(), "must be an absolute path");
    if (!m.image().image().empty()) {
      check_image_size(m.image().image(), field + ".image.image");
      continue;  // an image volume; its host_path is refused elsewhere
    }
    check_path_text(m.host_path(), field + ".host_path");
    if (m.host_path().empty() || m.host_path().front() != '/')
      refuse(field + ".host_path", m.host_path(), "must be an absolute path");
  }
  for (int i = 0; i < c.mounts_size(); ++i)
    if (c.mounts(i).image().image().empty())
      check_host_path_links(c.mounts(i).host_path(), "config.mounts[" + std::to_string(i) + "].host_path", guarded);
}

void check_process_strings(const v1::ContainerConfig& c) {
  const ExecBudget b = exec_budget();
  size_t used = 0;
  for (int i = 0; i < c.envs_size(); ++i) {
    const auto& e = c.envs(i);
    count_exec_string(e.key().size() + 1 + e.value().size(), "config.envs[" + std::to_string(i) + "]",
                      "the variable " + shown(e.key()), b, used);
  }
  for (int i = 0; i < c.command_size(); ++i)
    count_exec_string(c.command(i).size(), "config.command[" + std::to_string(i) + "]", shown(c.command(i), 16), b,
                      used);
  for (int i = 0; i < c.args_size(); ++i)
    count_exec_string(c.args(i).size(), "config.args[" + std::to_string(i) + "]", shown(c.args(i), 16), b, used);
  check_exec_total(used, "config.envs, config.command and config.args", b);
}

}  // namespace

void check_pod_config(const v1::PodSandboxConfig& c) {
  const auto& m = c.metadata();
  check_name(m.name(), "config.metadata.name", true);
  check_name(m.namespace_(), "config.metadata.namespace", true);
  check_name(m.uid(), "config.metadata.uid", true);
  check_log_directory(c.log_directory());
  // Each entry is written as (part of) one line of the pod's resolv.conf.
  const auto& dns = c.dns_config();
  for (int i = 0; i < dns.servers_size(); ++i)
    no_control(dns.servers(i), "config.dns_config.servers[" + std::to_string(i) + "]");
  for (int i = 0; i < dns.searches_size(); ++i)
    no_control(dns.searches(i), "config.dns_config.searches[" + std::to_string(i) + "]");
  for (int i = 0; i < dns.options_size(); ++i)
    no_control(dns.options(i), "config.dns_config.options[" + std::to_string(i) + "]");
  check_map_size(c.labels(), "config.labels");
  check_map_size(c.annotations(), "config.annotations");
}

void check_container_config(const v1::ContainerConfig& c, const conf::Config& daemon) {
  check_name(c.metadata().name(), "config.metadata.name", false);
  check_image_size(c.image().image(), "config.image.image");
  check_image_size(c.image().user_specified_image(), "config.image.user_specified_image");
  check_log_path(c.log_path());
  check_map_size(c.labels(), "config.labels");
  check_map_size(c.annotations(), "config.annotations");
  check_process_strings(c);
  check_mounts(c, daemon);
}

void check_exec_cmd(const Strings& cmd) {
  const ExecBudget b = exec_budget();
  size_t used = 0;
  for (int i = 0; i < cmd.size(); ++i)
    count_exec_string(cmd[i].size(), "cmd[" + std::to_string(i) + "]", shown(cmd[i], 16), b, used);
  check_exec_total(used, "cmd", b);
}

void check_image_ref(const std::string& ref, const std::string& field) { check_image_size(ref, field); }

}  // namespace crius::server
