// The sub path of an image volume (CRI Mount.image_sub_path): checked as
// text first, then resolved inside the image's mounted root filesystem so
// that neither ".." nor a symlink can lead out of it.
#pragma once

#include <string>

namespace crius::image {

// The sub path as a relative path without "." or empty components ("" for
// the whole image). InvalidArgument naming `field` and the path when it is
// absolute, has a ".." component or a NUL byte.
std::string checked_sub_path(const std::string& sub_path, const std::string& field);

// The real path of directory `sub` (as checked_sub_path returns it) inside
// the directory `root`, every component resolved beneath `root`
// (openat2 RESOLVE_BENEATH, no magic links). InvalidArgument naming `field`
// and the path when it does not exist, is not a directory, or a symlink on
// the way points out of `root`. `root` itself for "".
std::string resolve_sub_dir(const std::string& root, const std::string& sub, const std::string& field);

}  // namespace crius::image
