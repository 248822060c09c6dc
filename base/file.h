// Whole files, directory trees and records written so that a crash at any
// moment leaves the old or the new content, never a mix: write a temporary
// file, fsync, rename, fsync the directory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace crius {

// The whole file; a missing one is NotFound, other errors as throw_errno,
// each naming the path.
std::string read_file(const std::string& path);
// The whole file, or nothing when it does not exist. Throws on other errors.
std::optional<std::string> read_file_if_exists(const std::string& path);
// The whole file, or "" when it cannot be read for any reason (cgroup and
// /proc files of something that may be gone).
std::string read_file_or_empty(const std::string& path);

// Writes all of data to an open fd, retrying short writes and EINTR. False
// with errno set on failure.
bool write_all(int fd, const void* data, size_t len);
// open(path, O_WRONLY|flags, 0644) and write_all; throws naming the path.
void write_file(const std::string& path, std::string_view data, int flags = 0);
// Creates missing parent directories. Throws crius::Error naming the path
// and errno text: ResourceExhausted when the disk is full (ENOSPC, EDQUOT),
// else Internal; the file keeps its old content and no temporary file is
// left. `durable` false skips the fsyncs, for files that a machine crash
// makes meaningless anyway (the rename still makes the switch atomic for
// readers).
void write_file_atomic(const std::string& path, std::string_view content, unsigned mode = 0600,
                       bool durable = true);

// fsync of a directory, so that the entries made or renamed in it survive
// a machine crash. Throws as write_file_atomic does.
void sync_directory(const std::string& dir);

// mkdir -p; created components get `mode`. Throws naming the component.
void mkdir_all(const std::string& path, mode_t mode = 0755);
// rm -rf; a missing path is fine. Throws Internal naming the path.
void remove_all(const std::string& path);

}  // namespace crius
