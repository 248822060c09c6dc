// A directory of JSON records, one file per ID (<dir>/<id>.json), each
// written atomically: how sandboxes and containers persist what they are.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius {

void save_json_record(const std::string& dir, const std::string& id, const nlohmann::json& record);
// A missing record is fine. `kind` names it in errors ("sandbox record").
void erase_json_record(const std::string& dir, const std::string& id, const std::string& kind);
// (path, document) of every record in dir that is valid JSON; the others are
// logged and skipped.
std::vector<std::pair<std::string, nlohmann::json>> read_json_records(const std::string& dir, const std::string& kind);
void log_skipped_record(const std::string& kind, const std::string& path, const std::string& why);

// Every record `parse` accepts (it throws to refuse one, which is logged and skipped).
template <typename T, typename Parse>
std::vector<T> load_json_records(const std::string& dir, const std::string& kind, Parse parse) {
  std::vector<T> out;
  for (const auto& [path, doc] : read_json_records(dir, kind)) {
    try {
      out.push_back(parse(doc));
    } catch (const std::exception& ex) {
      log_skipped_record(kind, path, ex.what());
    }
  }
  return out;
}

}  // namespace crius
