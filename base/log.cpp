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
std::atomic<Format> g_format{Format::logfmt};

// This thread's Scope fields; those of the innermost Scope start at t_inner.
thread_local std::vector<std::pair<std::string, std::string>> t_context;
thread_local size_t t_inner = 0;
thread_local int t_depth = 0;

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

// ,"key":"value" for each field.
void append_json_fields(std::string& line, const std::vector<Field>& fields) {
  for (const auto& [k, v] : fields) {
    line += ',';
    line += json_string(k);
    line += ':';
    line += json_string(v);
  }
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

std::optional<Format> parse_format(std::string_view name) {
  if (name == "logfmt") return Format::logfmt;
  if (name == "json") return Format::json;
  return std::nullopt;
}

void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void set_output(int fd, Format format) {
  if (g_fd != STDERR_FILENO) ::close(g_fd);
  g_fd = fd < 0 ? STDERR_FILENO : fd;
  set_format(format);
}

void set_format(Format f) { g_format.store(f, std::memory_order_relaxed); }
Format format() { return g_format.load(std::memory_order_relaxed); }

Scope::Scope() : outer_(t_inner) {
  t_inner = t_context.size();
  ++t_depth;
}

Scope::~Scope() {
  t_context.resize(t_inner);
  t_inner = outer_;
  --t_depth;
}

bool annotating() { return t_depth > 0; }

void annotate(std::string_view key, std::string_view value) {
  if (t_depth == 0) return;
  for (size_t i = t_inner; i < t_context.size(); ++i)
    if (t_context[i].first == key) {
      t_context[i].second = value;
      return;
    }
  t_context.emplace_back(key, value);
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

std::string format_line(Level l, std::string_view msg, std::initializer_list<Field> given, Format format,
                        const std::string& time, const std::vector<std::pair<std::string, std::string>>& context) {
  // A key given here wins over the context's; an inner Scope's (later) over an outer's.
  std::vector<Field> fields(given);
  for (size_t i = 0; i < context.size(); ++i) {
    const std::string_view k = context[i].first;
    bool named = false;
    for (const auto& f : given) named = named || f.first == k;
    for (size_t j = i + 1; j < context.size(); ++j) named = named || context[j].first == k;
    if (!named) fields.emplace_back(k, context[i].second);
  }
  std::string line;
  line.reserve(128);
  // Appended piece by piece: GCC 12 at -O3 sees a false -Wrestrict overlap
  // in `"literal" + std::string` chains.
  if (format == Format::json) {
    line += "{\"time\":\"";
    line += time;
    line += "\",\"level\":\"";
    line += level_name(l);
    line += "\",\"msg\":";
    line += json_string(msg);
    append_json_fields(line, fields);
    line += "}\n";
    return line;
  }
  if (format == Format::runc_json) {
    // Key order as runc writes it: level, msg, then fields, time.
    line += "{\"level\":\"";
    line += runc_level(l);
    line += "\",\"msg\":";
    line += json_string(msg);
    append_json_fields(line, fields);
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
  const Format f = format();
  const bool daemon = f == Format::logfmt || f == Format::json;
  const std::string line = format_line(l, msg, fields, f, now_rfc3339(daemon ? 3 : 9), t_context);
  // One write(2) per line keeps lines from different threads whole.
  write_all(g_fd, line.data(), line.size());
}

}  // namespace crius::log
