// Whole-file reads and records written so that a crash at any moment leaves
// the old or the new content, never a mix: write a temporary file, fsync,
// rename, fsync the directory. In conf/ because every folder writes records.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crius {

// Creates missing parent directories. Throws crius::Error (Internal) naming
// the path and errno text. `durable` false skips the fsyncs, for files that a
// machine crash makes meaningless anyway (the rename still makes the switch
// atomic for readers).
void write_file_atomic(const std::string& path, std::string_view content, unsigned mode = 0600,
                       bool durable = true);

// The whole file, or nothing when it does not exist. Throws on other errors.
std::optional<std::string> read_file_if_exists(const std::string& path);

// The whole file; a missing one is NotFound, naming the path.
std::string read_file(const std::string& path);

}  // namespace crius
