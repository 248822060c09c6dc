// Structured, one-line-per-event logging, by default to stderr in logfmt:
//   time=2026-11-22T09:45:01.123Z level=info msg="serving CRI" socket=/run/crius/crius.sock
// or, with --log-format json, one JSON object per line:
//   {"time":"2026-11-22T09:45:01.123Z","level":"info","msg":"serving CRI","socket":"/run/crius/crius.sock"}
// crius-runtime logs as runc does instead, for conmon and cri-o to parse
// (--log FILE, --log-format text|json):
//   text: time="2026-11-22T10:00:00.000000000Z" level=error msg="..."
//   json: {"level":"error","msg":"...","time":"2026-11-22T10:00:00.000000000Z"}
// The level and the daemon's format can change at run time (SIGHUP reload),
// so they are atomics.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crius::log {

enum class Level { trace, debug, info, warn, error };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level);

void set_level(Level);
Level level();
inline bool enabled(Level l) { return l >= level(); }

using Field = std::pair<std::string_view, std::string_view>;
void write(Level, std::string_view msg, std::initializer_list<Field> fields = {});

enum class Format { logfmt, json, runc_text, runc_json };
// "logfmt" or "json", the daemon's two formats.
std::optional<Format> parse_format(std::string_view name);
// Sends every later line to fd (taken over; -1: stderr) in `format`. Set
// once at start, before other threads log.
void set_output(int fd, Format format);
// Changes only the format, at any time.
void set_format(Format format);
Format format();
bool to_stderr();
// The fd lines go to (2 for stderr).
int output_fd();
// Opens path for appending (empty: stderr) and set_output()s it. Throws naming the path.
void open_output(const std::string& path, Format format);

// Fields every line this thread writes carries while a Scope lives: an RPC
// opens one, and the lookups it makes name the pod and container it acts on
// (annotate), so that its error line and the lines of its work say which pod
// and container they are about without each call site repeating them.
class Scope {
 public:
  Scope();
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  size_t outer_;
};
// Adds or replaces a field of this thread's innermost Scope; nothing without one.
void annotate(std::string_view key, std::string_view value);
// Whether this thread has a Scope: lookups skip naming what they found
// (locks, map lookups) when nobody would print it.
bool annotating();

// The line write() emits at `time`, with `context` after `fields` (a key of
// `fields` wins, and a later one of `context`); exposed for tests.
std::string format_line(Level, std::string_view msg, std::initializer_list<Field> fields, Format,
                        const std::string& time,
                        const std::vector<std::pair<std::string, std::string>>& context = {});

inline void trace(std::string_view m, std::initializer_list<Field> f = {}) { if (enabled(Level::trace)) write(Level::trace, m, f); }
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { if (enabled(Level::debug)) write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { if (enabled(Level::info)) write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { if (enabled(Level::warn)) write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }

}  // namespace crius::log
