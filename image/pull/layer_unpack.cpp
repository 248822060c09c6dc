#include "image/pull/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/user_namespace.h"
#include "image/sha256.h"

namespace crius::image {
namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

// In a user namespace an ID outside its map cannot own a file (EINVAL): the
// entry keeps our owner, as rootless podman does, and the caller logs how
// many. True when the failed chown (errno) is that case.
bool unmapped_owner(UnpackStats& stats, uid_t uid, gid_t gid) {
  if (errno != EINVAL || !in_user_namespace()) return false;
  if (stats.unmapped_owners++ == 0) stats.first_unmapped = std::to_string(uid) + ":" + std::to_string(gid);
  return true;
}

// libarchive's message for the last failure; it may have none (a truncated
// gzip header fails without one).
std::string archive_error(struct archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "malformed data";
}

// A failed call on an entry: ResourceExhausted when the disk is full (the
// caller names the layer directory), else Internal.
Error entry_error(const std::string& entry, const std::string& what, int err) {
  return write_error("layer entry \"" + entry + "\": " + what, err);
}

// Opens `rel` (cleaned, relative) below `root`, resolving every symlink as if
// `root` were "/". Not open on failure, with errno set.
Fd open_in_root(int root, const std::string& rel, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return Fd(static_cast<int>(::syscall(SYS_openat2, root, rel.empty() ? "." : rel.c_str(), &how, sizeof how)));
}

// Makes directory `rel` exist below `root` (0755, root-owned, as tar does
// for implied parents). A dangling symlink on the way is followed inside the
// root and its target created there, as containerd resolves paths.
void ensure_dir(int root, const std::string& rel, const std::string& entry, int depth = 0) {
  if (depth > 40) throw InvalidArgument("layer entry \"" + entry + "\": too many levels of symbolic links");
  std::string prefix;
  size_t start = 0;
  while (start < rel.size()) {
    auto next = rel.find('/', start);
    if (next == std::string::npos) next = rel.size();
    const std::string comp = rel.substr(start, next - start);
    const std::string path = prefix.empty() ? comp : prefix + "/" + comp;
    Fd probe = open_in_root(root, path, O_PATH | O_DIRECTORY);
    if (!probe) {
      if (errno != ENOENT) throw entry_error(entry, "opening directory " + path, errno);
      Fd dir = open_in_root(root, prefix, O_RDONLY | O_DIRECTORY);
      if (!dir) throw entry_error(entry, "opening directory " + prefix, errno);
      if (::mkdirat(dir.get(), comp.c_str(), 0755) != 0) {
        if (errno != EEXIST) throw entry_error(entry, "creating directory " + path, errno);
        char target[4096];
        ssize_t n = ::readlinkat(dir.get(), comp.c_str(), target, sizeof target - 1);
        if (n < 0) throw entry_error(entry, "creating directory " + path, EEXIST);
        const std::string t(target, static_cast<size_t>(n));
        ensure_dir(root, clean_entry_path(t[0] == '/' ? t : prefix + "/" + t), entry, depth + 1);
      }
    }
    prefix = path;
    start = next + 1;
  }
}

// Opens the parent directory of `rel`, creating it when missing.
Fd open_parent(int root, const std::string& rel, const std::string& entry) {
  auto slash = rel.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  Fd fd = open_in_root(root, parent, O_RDONLY | O_DIRECTORY);
  if (fd) return fd;
  if (errno != ENOENT) throw entry_error(entry, "opening parent directory " + parent, errno);
  ensure_dir(root, parent, entry);
  fd = open_in_root(root, parent, O_RDONLY | O_DIRECTORY);
  if (!fd) throw entry_error(entry, "opening parent directory " + parent, errno);
  return fd;
}

// The directory the last entry went into, kept open for the next: a layer
// lists a directory's entries together, so most entries skip the lookup.
// An entry can replace or hide only names inside its own parent, never that
// parent or a directory above it, so the open directory stays the one its
// path names for as long as entries keep naming it.
class ParentCache {
 public:
  int get(int root, const std::string& rel, const std::string& entry) {
    const auto slash = rel.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    if (!fd_ || parent != path_) {
      fd_ = open_parent(root, rel, entry);
      path_ = parent;
    }
    return fd_.get();
  }
 private:
  Fd fd_;
  std::string path_;
};

std::string proc_path(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

// Makes room for a new entry called `name`: an existing non-directory goes;
// an existing directory stays only when the new entry is one too.
void clear_slot(int parent, const std::string& name, bool new_is_dir, const std::string& entry) {
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw entry_error(entry, "stat", errno);
  }
  if (S_ISDIR(st.st_mode)) {
    if (new_is_dir) return;
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0) return;
    // A populated directory replaced by a file: remove the tree (below a
    // directory fd we hold, so no path outside can be reached).
    remove_all(proc_path(parent, name));
    return;
  }
  if (::unlinkat(parent, name.c_str(), 0) != 0) throw entry_error(entry, "replacing existing entry", errno);
}

void set_xattrs(archive_entry* e, int parent, const std::string& name, bool is_symlink, const std::string& entry,
                UnpackStats& stats) {
  archive_entry_xattr_reset(e);
  const char* key;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    if (::lsetxattr(proc_path(parent, name).c_str(), key, value, size, 0) != 0) {
      // Symlinks cannot carry user.* attributes; drop those as tar does.
      if (is_symlink && (errno == EPERM || errno == ENOTSUP)) continue;
      // trusted.* is the host's to set, never a user namespace's.
      if (errno == EPERM && in_user_namespace() && std::string_view(key).starts_with("trusted.")) {
        ++stats.skipped_xattrs;
        continue;
      }
      throw entry_error(entry, std::string("setting xattr ") + key, errno);
    }
  }
}

struct DirTimes {
  std::string rel;
  struct timespec times[2];
};

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// The layer's tar stream: its bytes uncompressed (decompress.h), hashed as
// they pass so that the uncompressed digest (the config's diff_id) comes for
// free.
class Decompressed {
 public:
  Decompressed(const ChunkSource& next, GzipEngine gzip) : inflow_(next, gzip) {}

  // libarchive read callback for the tar reader.
  static la_ssize_t read(struct archive* tar, void* self, const void** buf) {
    auto* d = static_cast<Decompressed*>(self);
    try {
      return static_cast<la_ssize_t>(d->next(buf));
    } catch (...) {
      d->error_ = std::current_exception();
      archive_set_error(tar, EIO, "layer stream failed");
      return -1;
    }
  }
  // Reads what the tar reader left (end-of-archive padding) and returns
  // "sha256:<hex>" of the whole uncompressed stream.
  std::string finish() {
    const void* buf;
    while (next(&buf) > 0) {
    }
    return hash_.digest();
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  size_t next(const void** buf) {
    const char* data = nullptr;
    const size_t n = inflow_.next(&data);
    if (n) hash_.update(data, n);
    *buf = data;
    return n;
  }

  Inflow inflow_;
  Sha256 hash_;
  std::exception_ptr error_;
};

// Writes the current entry's data into `fd`; a sparse file's trailing hole,
// never written, is made by sizing the file.
void write_file_data(struct archive* a, const Decompressed& source, int fd, archive_entry* e, const std::string& entry,
                     UnpackStats& stats) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  la_int64_t end = 0;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      source.rethrow();
      throw InvalidArgument("layer entry \"" + entry + "\": " + archive_error(a));
    }
    const char* p = static_cast<const char*>(buf);
    while (size) {
      ssize_t w = ::pwrite(fd, p, size, offset);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw entry_error(entry, "writing", errno);
      }
      p += w;
      size -= static_cast<size_t>(w);
      offset += w;
      stats.bytes += static_cast<uint64_t>(w);
    }
    end = std::max(end, offset);
  }
  if (archive_entry_size(e) > end && ::ftruncate(fd, archive_entry_size(e)) != 0)
    throw entry_error(entry, "sizing", errno);
}

}  // namespace

std::string clean_entry_path(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    std::string comp = name.substr(start, slash - start);
    if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!comp.empty() && comp != ".") {
      parts.push_back(std::move(comp));
    }
    start = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

UnpackStats unpack_layer(const std::string& dir, const ChunkSource& next, GzipEngine gzip) {
  Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw Internal(errno_text("opening layer directory " + dir, errno));

  Decompressed source(next, gzip);
  std::unique_ptr<struct archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  if (archive_read_open(a.get(), &source, nullptr, &Decompressed::read, nullptr) != ARCHIVE_OK) {
    source.rethrow();
    throw InvalidArgument(std::string("layer is not a tar archive: ") + archive_error(a.get()));
  }

  UnpackStats stats;
  std::vector<DirTimes> dir_times;
  ParentCache parents;
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      source.rethrow();
      throw InvalidArgument(std::string("reading layer tar: ") + archive_error(a.get()));
    }
    ++stats.entries;
    const std::string entry = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    const std::string rel = clean_entry_path(entry);
    const mode_t type = archive_entry_filetype(e);
    const mode_t perm = archive_entry_perm(e) & 07777;
    const uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
    const gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
    struct timespec times[2] = {{archive_entry_atime(e), archive_entry_atime_nsec(e)},
                                {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
    if (!archive_entry_atime_is_set(e)) times[0] = times[1];

    if (rel.empty()) {  // the layer's root directory itself
      if (type == AE_IFDIR) {
        if ((::fchown(root.get(), uid, gid) != 0 && !unmapped_owner(stats, uid, gid)) ||
            ::fchmod(root.get(), perm) != 0)
          throw entry_error(entry, "setting owner and mode of the layer root", errno);
        dir_times.push_back({rel, {times[0], times[1]}});
      }
      continue;
    }
    const auto slash = rel.rfind('/');
    const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    const int parent = parents.get(root.get(), rel, entry);

    if (name.starts_with(kWhiteoutPrefix)) {
      if (name == kOpaqueMarker) {
        if (::fsetxattr(parent, overlay_opaque_xattr(), "y", 1, 0) != 0)
          throw entry_error(entry, "marking directory opaque", errno);
      } else {
        const std::string hidden = name.substr(4);
        if (hidden.empty() || hidden == "." || hidden == "..") throw InvalidArgument("layer entry \"" + entry + "\": bad whiteout");
        clear_slot(parent, hidden, false, entry);
        if (::mknodat(parent, hidden.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0)
          throw entry_error(entry, "creating whiteout", errno);
        if (::fchownat(parent, hidden.c_str(), 0, 0, AT_SYMLINK_NOFOLLOW) != 0)
          throw entry_error(entry, "owning whiteout", errno);
      }
      continue;
    }

    if (const char* link = archive_entry_hardlink(e)) {
      const std::string target = clean_entry_path(link);
      if (target.empty()) throw InvalidArgument("layer entry \"" + entry + "\": hard link to the layer root");
      Fd tparent = open_parent(root.get(), target, entry);
      const std::string tname = target.substr(target.rfind('/') == std::string::npos ? 0 : target.rfind('/') + 1);
      clear_slot(parent, name, false, entry);
      if (::linkat(tparent.get(), tname.c_str(), parent, name.c_str(), 0) != 0)
        throw entry_error(entry, "hard linking to " + target, errno);
      continue;
    }

    if (type == AE_IFREG) {
      // A new file needs no lookup first; only one in the way is cleared.
      Fd f(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!f && errno == EEXIST) {
        clear_slot(parent, name, false, entry);
        f = Fd(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      }
      if (!f) throw entry_error(entry, "creating file", errno);
      write_file_data(a.get(), source, f.get(), e, entry, stats);
      // Its write-back starts now, while the rest of the layer streams in,
      // so that the syncfs before the layer's commit has little left to
      // wait for. Only a hint: that syncfs reports any write error.
      ::sync_file_range(f.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
      // On the open file: owner before mode (chown clears set-id bits).
      if (::fchown(f.get(), uid, gid) != 0 && !unmapped_owner(stats, uid, gid))
        throw entry_error(entry, "setting owner", errno);
      if (::fchmod(f.get(), perm) != 0) throw entry_error(entry, "setting mode", errno);
      set_xattrs(e, parent, name, false, entry, stats);
      if (::futimens(f.get(), times) != 0) throw entry_error(entry, "setting times", errno);
      continue;
    }

    clear_slot(parent, name, type == AE_IFDIR, entry);
    bool is_symlink = false;
    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(parent, name.c_str(), 0700) != 0 && errno != EEXIST)
          throw entry_error(entry, "creating directory", errno);
        dir_times.push_back({rel, {times[0], times[1]}});
        break;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target || ::symlinkat(target, parent, name.c_str()) != 0)
          throw entry_error(entry, "creating symlink", target ? errno : EINVAL);
        is_symlink = true;
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        if (::mknodat(parent, name.c_str(), type | perm, archive_entry_rdev(e)) != 0) {
          if (errno == EPERM && type != AE_IFIFO && in_user_namespace()) {
            ++stats.skipped_devices;
            continue;
          }
          throw entry_error(entry, "creating device node", errno);
        }
        break;
      }
      default:
        continue;  // sockets and unknown types are not restored, as tar does
    }
    // Owner before mode: chown clears set-id bits.
    if (::fchownat(parent, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && !unmapped_owner(stats, uid, gid))
      throw entry_error(entry, "setting owner", errno);
    if (!is_symlink && ::fchmodat(parent, name.c_str(), perm, 0) != 0)
      throw entry_error(entry, "setting mode", errno);
    set_xattrs(e, parent, name, is_symlink, entry, stats);
    if (type != AE_IFDIR && ::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
      throw entry_error(entry, "setting times", errno);
  }
  source.rethrow();
  stats.diff_id = source.finish();
  // Directory times last: creating their children changed them.
  for (auto it = dir_times.rbegin(); it != dir_times.rend(); ++it) {
    // A directory a later entry replaced is gone, and its times with it; a
    // directory's times are not worth failing the pull over.
    Fd d = open_in_root(root.get(), it->rel, O_RDONLY | O_DIRECTORY);
    if (d) ::futimens(d.get(), it->times);
  }
  return stats;
}

const char* overlay_opaque_xattr() {
  return in_user_namespace() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

}  // namespace crius::image
