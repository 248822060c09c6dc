// Unpacks one layer tar (gzip, zstd or uncompressed, detected from its
// bytes: decompress.h) into a directory in overlayfs form: ownership, modes, times, hard
// links, symlinks, xattrs and device nodes kept; OCI whiteouts turned into
// overlay whiteouts (".wh.NAME" -> a 0:0 character device NAME,
// ".wh..wh..opq" -> trusted.overlay.opaque=y on the directory, or
// user.overlay.opaque=y in a user namespace, whose overlays are mounted with
// userxattr).
//
// Nothing is ever written outside the directory: entry names are cleaned as
// if rooted at it ("../../x" and "/x" land on "x"), and every lookup goes
// through openat2(RESOLVE_IN_ROOT), so symlinks and hard links in the layer
// resolve inside it too.
#pragma once

#include <string>

#include "image/pull/decompress.h"

namespace crius::image {

struct UnpackStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // uncompressed file content written
  std::string diff_id;  // "sha256:<hex>" of the uncompressed tar stream
  // In a user namespace only (base/user_namespace.h): entries whose owner the
  // namespace cannot map (kept as ours; the first one as "uid:gid"), device
  // nodes left out, trusted.* xattrs left out.
  uint64_t unmapped_owners = 0;
  std::string first_unmapped;
  uint64_t skipped_devices = 0;
  uint64_t skipped_xattrs = 0;
};

// The xattr that marks an overlay directory opaque here.
const char* overlay_opaque_xattr();

// Unpacks into `dir`, which must exist. Throws naming the layer entry on
// failure: ResourceExhausted when the disk is full, InvalidArgument for
// malformed data.
UnpackStats unpack_layer(const std::string& dir, const ChunkSource& source, GzipEngine gzip = best_gzip_engine());

// "/a/../b/./c" -> "b/c": the path an entry names, as if `dir` were "/".
std::string clean_entry_path(const std::string& name);

}  // namespace crius::image
