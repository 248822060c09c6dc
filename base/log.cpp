#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"

namespace crius::log {
namespace {

std::atomic<Level> g_level{Level::info};
int g_fd = STDERR_FILENO;
Format g_format = Format::logfmt;

// logfmt quoting: bare when the value has no space, quote, '=' or control char.
void append_value(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) bare = false;
  if (bare) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// runc's (logrus') level names.
const char* runc_level(Level l) {
  switch (l) {
    case Level::trace:
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
  }
  return "info";
}

std::string json_string(std::string_view v) {
  return nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error})
    if (level_name(l) == name) return l;
  return std::nullopt;
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void set_output(int fd, Format format) {
  if (g_fd != STDERR_FILENO) ::close(g_fd);
  g_fd = fd < 0 ? STDERR_FILENO : fd;
  g_format = format;
}

bool to_stderr() { return g_fd == STDERR_FILENO; }

int output_fd() { return g_fd; }

void open_output(const std::string& path, Format format) {
  int fd = -1;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno("opening log file " + path);
  }
  set_output(fd, format);
}

std::string format_line(Level l, std::string_view msg, std::initializer_list<Field> fields, Format format,
                        const std::string& time) {
  std::string line;
  line.reserve(128);
  // Appended piece by piece: GCC 12 at -O3 sees a false -Wrestrict overlap
  // in `"literal" + std::string` chains.
  if (format == Format::runc_json) {
    // Key order as runc writes it: level, msg, then fields, time.
    line += "{\"level\":\"";
    line += runc_level(l);
    line += "\",\"msg\":";
    line += json_string(msg);
    for (const auto& [k, v] : fields) {
      line += ',';
      line += json_string(k);
      line += ':';
      line += json_string(v);
    }
    line += ",\"time\":\"";
    line += time;
    line += "\"}\n";
    return line;
  }
  const bool runc = format == Format::runc_text;
  line += "time=";
  if (runc) line += '"';
  line += time;
  if (runc) line += '"';
  line += " level=";
  line += runc ? std::string_view(runc_level(l)) : level_name(l);
  line += " msg=";
  if (runc)
    line += json_string(msg);
  else
    append_value(line, msg);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append_value(line, v);
  }
  line += '\n';
  return line;
}

void write(Level l, std::string_view msg, std::initializer_list<Field> fields) {
  const std::string line = format_line(l, msg, fields, g_format, now_rfc3339(g_format == Format::logfmt ? 3 : 9));
  // One write(2) per line keeps lines from different threads whole.
  write_all(g_fd, line.data(), line.size());
}

}  // namespace crius::log
