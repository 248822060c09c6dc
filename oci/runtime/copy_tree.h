// A faithful copy of a directory's contents into another directory (modes,
// owners, timestamps, symlinks as links, device nodes and fifos), walked by
// fd with O_NOFOLLOW so that nothing outside the two trees is reached. Used
// for tmpfs mounts with "tmpcopyup".
#pragma once

#include <string>

namespace crius::oci::runtime {

// src and dst: directory fds (O_RDONLY). Throws naming `what`, the entry and
// errno's text.
void copy_tree(int src, int dst, const std::string& what);

}  // namespace crius::oci::runtime
