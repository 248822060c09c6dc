#include "oci/monitor/exit_record.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"

namespace crius::oci::monitor {

std::string exit_record_path(const std::string& dir, const std::string& id) {
  return dir + "/exits/" + id + ".json";
}

ExitInfo exit_info(int wait_status) {
  ExitInfo x;
  if (WIFSIGNALED(wait_status)) {
    x.signal = WTERMSIG(wait_status);
    x.exit_code = 128 + x.signal;
  } else {
    x.exit_code = WEXITSTATUS(wait_status);
  }
  x.finished_at = now_ns();
  return x;
}

nlohmann::json exit_to_json(const ExitInfo& info) {
  return {{"exit_code", info.exit_code},
          {"signal", info.signal},
          {"finished_at", info.finished_at},
          {"oom_killed", info.oom_killed}};
}

ExitInfo exit_from_json(const nlohmann::json& j) {
  ExitInfo info;
  info.exit_code = j.value("exit_code", 0);
  info.signal = j.value("signal", 0);
  info.finished_at = j.value("finished_at", int64_t{0});
  info.oom_killed = j.value("oom_killed", false);
  return info;
}

void write_exit(const std::string& dir, const std::string& id, const ExitInfo& info) {
  write_file_atomic(exit_record_path(dir, id), exit_to_json(info).dump() + "\n", 0600);
}

void remove_exit(const std::string& dir, const std::string& id) {
  const std::string path = exit_record_path(dir, id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw Internal(errno_text("remove exit record " + path, errno));
}

std::optional<ExitInfo> read_exit(const std::string& dir, const std::string& id) {
  const std::string path = exit_record_path(dir, id);
  auto text = read_file_if_exists(path);
  if (!text) return std::nullopt;
  try {
    return exit_from_json(nlohmann::json::parse(*text));
  } catch (const nlohmann::json::exception& e) {
    throw Internal("exit record " + path + " is malformed: " + e.what());
  }
}

}  // namespace crius::oci::monitor
