#include "server/streaming/status.h"

#include <nlohmann/json.hpp>

namespace crius::streaming {

std::string status_json(const Outcome& o) {
  nlohmann::json s = {{"metadata", nlohmann::json::object()}};
  if (o.exit_code && *o.exit_code == 0) {
    s["status"] = "Success";
  } else if (o.exit_code) {
    s["status"] = "Failure";
    s["message"] = status_text(o);
    s["reason"] = "NonZeroExitCode";
    s["details"] = {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(*o.exit_code)}}}}};
  } else {
    s["status"] = "Failure";
    s["message"] = status_text(o);
    s["reason"] = "InternalError";
    s["code"] = 500;
    s["details"] = {{"causes", {{{"message", o.error}}}}};
  }
  return s.dump();
}

std::string status_text(const Outcome& o) {
  if (o.exit_code && *o.exit_code == 0) return {};
  if (o.exit_code)
    return "command terminated with non-zero exit code: exit status " + std::to_string(*o.exit_code);
  return "Internal error occurred: " + o.error;
}

}  // namespace crius::streaming
