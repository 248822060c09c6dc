// Records written so that a crash at any moment leaves the old or the new
// content, never a mix: write a temporary file, fsync, rename, fsync the dir.
// Lives in cni/ (the lower folder) because sandbox/ uses it too.
#pragma once

#include <optional>
#include <string>

namespace crius::cni {

// Throws crius::Error (Internal) naming the path and errno text. `durable`
// false skips the fsyncs, for files under the volatile state dir that a
// reboot removes anyway (the rename still makes the switch atomic).
void write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0600,
                       bool durable = true);
// The whole file, or nothing when it does not exist. Throws on other errors.
std::optional<std::string> read_file_if_exists(const std::string& path);

}  // namespace crius::cni
