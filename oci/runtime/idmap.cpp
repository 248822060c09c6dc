#include "oci/runtime/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "oci/runtime/namespaces.h"

namespace crius::oci::runtime {
namespace {

std::vector<IdMapping> parse_mappings(const nlohmann::json& j, const std::string& field) {
  std::vector<IdMapping> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw InvalidArgument(field + ": must be an array");
  for (const auto& m : j) {
    if (!m.is_object()) throw InvalidArgument(field + ": entries must be objects");
    IdMapping x;
    try {
      x.container_id = m.at("containerID").get<uint32_t>();
      x.host_id = m.at("hostID").get<uint32_t>();
      x.size = m.at("size").get<uint32_t>();
    } catch (const nlohmann::json::exception&) {
      throw InvalidArgument(field + ": each entry needs containerID, hostID and size as unsigned integers");
    }
    if (x.size == 0) throw InvalidArgument(field + ": size must not be 0");
    out.push_back(x);
  }
  return out;
}

}  // namespace

std::optional<IdmapRequest> idmap_request(const Spec& spec, size_t index) {
  const Mount& m = spec.mounts.at(index);
  const std::string field = "mounts[" + std::to_string(index) + "] (" + m.destination + ")";
  nlohmann::json raw;
  if (spec.raw.contains("mounts") && spec.raw["mounts"].is_array() && index < spec.raw["mounts"].size())
    raw = spec.raw["mounts"][index];
  IdmapRequest r;
  bool asked = false;
  for (const auto& o : m.options) {
    if (o == "idmap" || o == "ridmap") {
      asked = true;
      r.recursive = o == "ridmap";
    }
  }
  r.uids = parse_mappings(raw.value("uidMappings", nlohmann::json()), field + ".uidMappings");
  r.gids = parse_mappings(raw.value("gidMappings", nlohmann::json()), field + ".gidMappings");
  if (!asked && r.uids.empty() && r.gids.empty()) return std::nullopt;
  bool bind = m.type == "bind";
  for (const auto& o : m.options) bind |= o == "bind" || o == "rbind";
  if (!bind) throw InvalidArgument(field + ": idmapped mounts must be bind mounts");
  if (r.uids.empty() != r.gids.empty())
    throw InvalidArgument(field + ": uidMappings and gidMappings must be given together");
  if (r.uids.empty()) {
    // "idmap" alone maps like the container's user namespace.
    if (!spec.linux_ || spec.linux_->uid_mappings.empty() || spec.linux_->gid_mappings.empty())
      throw InvalidArgument(field + ": \"idmap\" without mappings needs linux.uidMappings and gidMappings");
    r.uids = spec.linux_->uid_mappings;
    r.gids = spec.linux_->gid_mappings;
  }
  return r;
}

Fd make_mapping_userns(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids) {
  auto [ready_r, ready_w] = make_pipe("the idmap holder's ready signal");
  auto [hold_r, hold_w] = make_pipe("holding the idmap user namespace");
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("idmap: fork the user namespace holder");
  if (pid == 0) {
    // Only raw system calls here: the runtime may have other threads.
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    // A lost answer reads as EOF, which the runtime takes as a failure.
    (void)!::write(ready_w.get(), &c, 1);
    (void)!::read(hold_r.get(), &c, 1);  // until the runtime has the namespace
    ::_exit(0);
  }
  ready_w.reset();
  hold_r.reset();
  // Whatever happens below, the holder goes.
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  } reap{pid};
  char c = 0;
  if (::read(ready_r.get(), &c, 1) != 1 || c != 'y') throw Internal("idmap: the holder could not unshare its user namespace");
  write_id_maps(pid, uids, gids);
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
  Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) throw_errno("idmap: open " + path);
  return ns;
}

Fd make_idmapped_tree(const std::string& source, const IdmapRequest& r) {
  Fd userns = make_mapping_userns(r.uids, r.gids);
  const unsigned rec = r.recursive ? AT_RECURSIVE : 0;
  Fd tree(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec));
  if (!tree) throw_errno("idmap: open_tree(OPEN_TREE_CLONE) of " + source);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns.get());
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | rec, &attr, sizeof attr) != 0)
    throw_errno("idmap: mount_setattr(MOUNT_ATTR_IDMAP) on " + source);
  return tree;
}

}  // namespace crius::oci::runtime
