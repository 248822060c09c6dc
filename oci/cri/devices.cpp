// Device nodes in the container (linux.devices) and the device cgroup rules
// that let it use them.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>

#include "base/error.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json rule(bool allow, const std::string& type, std::optional<int64_t> major, std::optional<int64_t> minor,
          const std::string& access) {
  json r = {{"allow", allow}, {"access", access}};
  if (!type.empty()) r["type"] = type;
  if (major) r["major"] = *major;
  if (minor) r["minor"] = *minor;
  return r;
}

// A device node at `host`, or nullopt when it is not one.
std::optional<json> device_entry(const std::string& host, const std::string& ctr) {
  struct stat st {};
  if (::stat(host.c_str(), &st) != 0) return std::nullopt;
  std::string type;
  if (S_ISCHR(st.st_mode)) type = "c";
  else if (S_ISBLK(st.st_mode)) type = "b";
  else return std::nullopt;
  return json{{"path", ctr},
              {"type", type},
              {"major", static_cast<int64_t>(major(st.st_rdev))},
              {"minor", static_cast<int64_t>(minor(st.st_rdev))},
              {"fileMode", static_cast<uint32_t>(st.st_mode & 07777)},
              {"uid", static_cast<uint32_t>(st.st_uid)},
              {"gid", static_cast<uint32_t>(st.st_gid)}};
}

void add(DevicesResult& r, json dev, const std::string& access) {
  r.cgroup_rules.push_back(rule(true, dev["type"], dev["major"].get<int64_t>(), dev["minor"].get<int64_t>(), access));
  r.devices.push_back(std::move(dev));
}

}  // namespace

DevicesResult cri_devices(const ::runtime::v1::ContainerConfig& config) {
  DevicesResult r;
  for (int i = 0; i < config.devices_size(); ++i) {
    const auto& d = config.devices(i);
    const std::string field = "devices[" + std::to_string(i) + "]";
    if (d.container_path().empty() || d.container_path()[0] != '/')
      throw InvalidArgument(field + ".container_path \"" + d.container_path() + "\": must be an absolute path");
    std::string access = d.permissions().empty() ? "rwm" : d.permissions();
    if (access.find_first_not_of("rwm") != std::string::npos)
      throw InvalidArgument(field + ".permissions \"" + access + "\": only r, w and m are allowed");
    struct stat st {};
    if (::stat(d.host_path().c_str(), &st) != 0)
      throw InvalidArgument(errno_text(field + ".host_path \"" + d.host_path() + "\"", errno));
    if (S_ISDIR(st.st_mode)) {
      // A directory brings every device node below it, at the same place.
      std::error_code ec;
      fs::recursive_directory_iterator it(d.host_path(), fs::directory_options::skip_permission_denied, ec), end;
      if (ec) throw InvalidArgument(field + ".host_path \"" + d.host_path() + "\": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) break;
        const auto rel = fs::path(it->path()).lexically_relative(d.host_path());
        if (auto e = device_entry(it->path().string(), (fs::path(d.container_path()) / rel).string()))
          add(r, std::move(*e), access);
      }
      continue;
    }
    auto e = device_entry(d.host_path(), d.container_path());
    if (!e) throw InvalidArgument(field + ".host_path \"" + d.host_path() + "\": not a device node");
    add(r, std::move(*e), access);
  }
  return r;
}

DevicesResult host_devices() {
  DevicesResult r;
  std::error_code ec;
  fs::recursive_directory_iterator it("/dev", fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string p = it->path().string();
    // Filesystems the container gets its own of, and the host's console.
    if (it->is_directory(ec) && (p == "/dev/pts" || p == "/dev/shm" || p == "/dev/mqueue" || p == "/dev/fd")) {
      it.disable_recursion_pending();
      continue;
    }
    if (p == "/dev/console" || it->is_symlink(ec)) continue;
    if (auto e = device_entry(p, p)) r.devices.push_back(std::move(*e));
  }
  r.cgroup_rules.push_back(rule(true, "", std::nullopt, std::nullopt, "rwm"));
  return r;
}

nlohmann::json default_device_rules() {
  json rules = json::array();
  rules.push_back(rule(false, "", std::nullopt, std::nullopt, "rwm"));
  // mknod of any device; using one still needs its own rule.
  rules.push_back(rule(true, "c", std::nullopt, std::nullopt, "m"));
  rules.push_back(rule(true, "b", std::nullopt, std::nullopt, "m"));
  for (auto [maj, min] : {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}})
    rules.push_back(rule(true, "c", maj, min, "rwm"));
  rules.push_back(rule(true, "c", 136, std::nullopt, "rwm"));  // /dev/pts/*
  return rules;
}

}  // namespace crius::oci::cri::detail
