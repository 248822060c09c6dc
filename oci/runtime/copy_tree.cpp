#include "oci/runtime/copy_tree.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"

namespace crius::oci::runtime {
namespace {

// Owner, then mode (chown clears set-id bits), then times.
void copy_attrs(int dst_dir, const char* name, int fd, const struct stat& st, const std::string& what) {
  if (fd >= 0) {
    if (::fchown(fd, st.st_uid, st.st_gid) != 0) throw_errno(what + ": chown");
    if (::fchmod(fd, st.st_mode & 07777) != 0) throw_errno(what + ": chmod");
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(fd, times) != 0) throw_errno(what + ": set times");
    return;
  }
  // Symlinks and special files: by name, never following a link.
  if (::fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(what + ": chown");
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, name, st.st_mode & 07777, 0) != 0) throw_errno(what + ": chmod");
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(what + ": set times");
}

void copy_file(int src_dir, int dst_dir, const char* name, const struct stat& st, const std::string& what) {
  Fd in(::openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in) throw_errno(what + ": open");
  Fd out(::openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) throw_errno(what + ": create");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(what + ": copy");
    if (n == 0) break;  // the file shrank meanwhile
    left -= n;
  }
  copy_attrs(dst_dir, name, out.get(), st, what);
}

}  // namespace

void copy_tree(int src, int dst, const std::string& what) {
  // The stream takes a duplicate (src stays the caller's), which shares
  // src's offset: start from the beginning whatever src read before.
  Fd dup(::fcntl(src, F_DUPFD_CLOEXEC, 0));
  if (!dup) throw_errno(what + ": dup");
  if (::lseek(dup.get(), 0, SEEK_SET) < 0) throw_errno(what + ": rewind");
  Dir dir = Dir::from_fd(dup.release(), what);
  while (const dirent* e = dir.next()) {
    const std::string entry = what + "/" + e->d_name;
    struct stat st;
    if (::fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(entry + ": stat");
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dst, e->d_name, 0700) != 0) throw_errno(entry + ": mkdir");
      Fd from(::openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      Fd to(::openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from || !to) throw_errno(entry + ": open directory");
      copy_tree(from.get(), to.get(), entry);
      copy_attrs(dst, e->d_name, to.get(), st, entry);
    } else if (S_ISREG(st.st_mode)) {
      copy_file(src, dst, e->d_name, st, entry);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(src, e->d_name, target.data(), target.size());
      if (n < 0) throw_errno(entry + ": readlink");
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), dst, e->d_name) != 0) throw_errno(entry + ": symlink");
      copy_attrs(dst, e->d_name, -1, st, entry);
    } else {
      // Device nodes, fifos, sockets: the same node.
      if (::mknodat(dst, e->d_name, st.st_mode, st.st_rdev) != 0) throw_errno(entry + ": mknod");
      copy_attrs(dst, e->d_name, -1, st, entry);
    }
  }
}

}  // namespace crius::oci::runtime
