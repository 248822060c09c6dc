#include "oci/runtime/log.h"
#include "oci/runtime/state.h"

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
  std::string line = format(l, msg, g_json, now_rfc3339());
  write_all(g_fd, line.data(), line.size());
}

}  // namespace crius::oci::runtime::rtlog
