#include "base/json_records.h"

#include <filesystem>

#include "base/file.h"
#include "base/error.h"
#include "base/log.h"

namespace crius {
namespace fs = std::filesystem;

void save_json_record(const std::string& dir, const std::string& id, const nlohmann::json& record) {
  write_file_atomic(dir + "/" + id + ".json", record.dump());
}

void erase_json_record(const std::string& dir, const std::string& id, const std::string& kind) {
  const std::string path = dir + "/" + id + ".json";
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) throw Internal("removing " + kind + " " + path + ": " + ec.message());
}

void log_skipped_record(const std::string& kind, const std::string& path, const std::string& why) {
  log::warn("skipping an unreadable " + kind, {{"path", path}, {"error", why}});
}

std::vector<std::pair<std::string, nlohmann::json>> read_json_records(const std::string& dir, const std::string& kind) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".json") continue;
    try {
      auto text = read_file_if_exists(e.path());
      if (text) out.emplace_back(e.path().string(), nlohmann::json::parse(*text));
    } catch (const std::exception& ex) {
      log_skipped_record(kind, e.path().string(), ex.what());
    }
  }
  return out;
}

}  // namespace crius
