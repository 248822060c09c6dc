// The container's uid, gid and groups, from the CRI security context or the
// image's USER, names resolved in the image's own /etc/passwd and /etc/group.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "base/error.h"
#include "base/fd.h"
#include "base/strings.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
};
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> parse_id(const std::string& s) {
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<PasswdEntry> parse_passwd(const std::string& text) {
  std::vector<PasswdEntry> out;
  for (const auto& line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    if (f.size() < 4) continue;
    auto uid = parse_id(f[2]), gid = parse_id(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid});
  }
  return out;
}

std::vector<GroupEntry> parse_group(const std::string& text) {
  std::vector<GroupEntry> out;
  for (const auto& line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    if (f.size() < 3) continue;
    auto gid = parse_id(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() >= 4)
      for (auto& m : split(f[3], ','))
        if (!m.empty()) g.members.push_back(m);
    out.push_back(std::move(g));
  }
  return out;
}

struct ImageAccounts {
  std::vector<PasswdEntry> users;
  std::vector<GroupEntry> groups;

  const PasswdEntry* user_by_name(const std::string& n) const {
    for (auto& u : users)
      if (u.name == n) return &u;
    return nullptr;
  }
  const PasswdEntry* user_by_uid(uint32_t uid) const {
    for (auto& u : users)
      if (u.uid == uid) return &u;
    return nullptr;
  }
  const GroupEntry* group_by_name(const std::string& n) const {
    for (auto& g : groups)
      if (g.name == n) return &g;
    return nullptr;
  }
};

ImageAccounts load_accounts(const std::string& rootfs) {
  ImageAccounts a;
  if (rootfs.empty()) return a;
  if (auto t = read_in_root(rootfs, "etc/passwd")) a.users = parse_passwd(*t);
  if (auto t = read_in_root(rootfs, "etc/group")) a.groups = parse_group(*t);
  return a;
}

uint32_t checked_id(int64_t v, const std::string& field) {
  if (v < 0 || v > 0xFFFFFFFEll) throw InvalidArgument(field + ": " + std::to_string(v) + " is not a valid id");
  return static_cast<uint32_t>(v);
}

}  // namespace

std::optional<std::string> read_in_root(const std::string& rootfs, const std::string& rel) {
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw InvalidArgument(errno_text("opening the container rootfs " + rootfs, errno));
  // Absolute links and ".." resolve against the rootfs, as inside the container.
  Fd f = openat2_fd(root.get(), rel, O_RDONLY | O_NOCTTY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  if (!f && errno == EXDEV)  // a rootfs assembled from several mounts: stay in the root, cross mounts
    f = openat2_fd(root.get(), rel, O_RDONLY | O_NOCTTY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (!f) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw InvalidArgument(errno_text("reading " + rel + " in the container rootfs " + rootfs, errno));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InvalidArgument(errno_text("reading " + rel + " in the container rootfs " + rootfs, errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (64u << 20)) throw InvalidArgument(rel + " in the container rootfs " + rootfs + " is too large");
  }
  return out;
}

ResolvedUser resolve_user(const ::runtime::v1::LinuxContainerSecurityContext& sc, const ImageConfig& image,
                          const std::string& rootfs) {
  // The CRI's rule (and Kubernetes'): a group alone names no user to run as.
  if (sc.has_run_as_group() && !sc.has_run_as_user() && sc.run_as_username().empty())
    throw InvalidArgument("security_context.run_as_group is set without run_as_user or run_as_username");
  const ImageAccounts acc = load_accounts(rootfs);
  ResolvedUser r;

  auto set_user_name = [&](const std::string& name, const std::string& field) {
    const PasswdEntry* u = acc.user_by_name(name);
    if (!u) throw InvalidArgument(field + ": user \"" + name + "\" not found in the image's /etc/passwd");
    r.uid = u->uid;
    r.gid = u->gid;
    r.username = u->name;
  };
  auto set_uid = [&](uint32_t uid) {
    r.uid = uid;
    if (const PasswdEntry* u = acc.user_by_uid(uid)) {
      r.gid = u->gid;
      r.username = u->name;
    }
  };

  if (sc.has_run_as_user()) {
    set_uid(checked_id(sc.run_as_user().value(), "run_as_user"));
  } else if (!sc.run_as_username().empty()) {
    set_user_name(sc.run_as_username(), "run_as_username");
  } else if (!image.user.empty()) {
    const auto colon = image.user.find(':');
    const std::string user = image.user.substr(0, colon);
    if (auto uid = parse_id(user)) set_uid(*uid);
    else set_user_name(user, "image user \"" + image.user + "\"");
    if (colon != std::string::npos) {
      const std::string group = image.user.substr(colon + 1);
      if (auto gid = parse_id(group)) {
        r.gid = *gid;
      } else {
        const GroupEntry* g = acc.group_by_name(group);
        if (!g)
          throw InvalidArgument("image user \"" + image.user + "\": group \"" + group +
                                "\" not found in the image's /etc/group");
        r.gid = g->gid;
      }
    }
  } else {
    set_uid(0);  // root, with root's groups from the image
  }
  if (sc.has_run_as_group()) {
    r.gid = checked_id(sc.run_as_group().value(), "run_as_group");
  }

  std::vector<uint32_t> groups{r.gid};
  auto add = [&](uint32_t g) {
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  };
  if (sc.supplemental_groups_policy() == ::runtime::v1::Merge && !r.username.empty())
    for (const auto& g : acc.groups)
      if (std::find(g.members.begin(), g.members.end(), r.username) != g.members.end()) add(g.gid);
  for (int64_t g : sc.supplemental_groups()) add(checked_id(g, "supplemental_groups"));
  r.supplemental_groups = std::move(groups);
  return r;
}

}  // namespace crius::oci::cri::detail
