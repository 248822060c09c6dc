// The runtime's own log, as runc writes it for conmon and cri-o to parse:
// --log FILE (default stderr) and --log-format text|json, one line per event:
//   text: time="2026-11-22T10:00:00Z" level=error msg="..."
//   json: {"level":"error","msg":"...","time":"2026-11-22T10:00:00Z"}
// Process-wide, set once by the CLI (or the monitor); the container's init
// inherits the fd, so it can log between clone and exec.
#pragma once

#include <string>
#include <string_view>

namespace crius::oci::runtime::rtlog {

enum class Level { debug, info, warn, error };

// Opens path for appending (empty: stderr). Throws naming the path.
void configure(const std::string& path, bool json, bool debug);
bool to_stderr();

void write(Level, std::string_view msg);
inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

// The line write() would emit; exposed for tests.
std::string format(Level, std::string_view msg, bool json, const std::string& time);

}  // namespace crius::oci::runtime::rtlog
