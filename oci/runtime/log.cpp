#include "oci/runtime/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "oci/runtime/sys.h"

namespace crius::oci::runtime::rtlog {
namespace {

int g_fd = STDERR_FILENO;
bool g_json = false;
bool g_debug = false;

const char* name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
  }
  return "info";
}

std::string now() {
  auto t = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(t);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() % 1000000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ns));
  return buf;
}

}  // namespace

void configure(const std::string& path, bool json, bool debug) {
  g_json = json;
  g_debug = debug;
  if (path.empty()) return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("opening log file " + path);
  if (g_fd != STDERR_FILENO) ::close(g_fd);
  g_fd = fd;
}

bool to_stderr() { return g_fd == STDERR_FILENO; }

std::string format(Level l, std::string_view msg, bool json, const std::string& time) {
  if (json) {
    // Key order as runc (logrus) writes it: level, msg, time.
    std::string line = "{\"level\":" + nlohmann::json(name(l)).dump() + ",\"msg\":" +
                       nlohmann::json(std::string(msg)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       ",\"time\":\"" + time + "\"}\n";
    return line;
  }
  std::string line = "time=\"" + time + "\" level=" + name(l) + " msg=";
  line += nlohmann::json(std::string(msg)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  return line;
}

void write(Level l, std::string_view msg) {
  if (l == Level::debug && !g_debug) return;
  std::string line = format(l, msg, g_json, now());
  write_all(g_fd, line.data(), line.size());
}

}  // namespace crius::oci::runtime::rtlog
