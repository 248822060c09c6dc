// The exit record of a container: <dir>/exits/<id>.json, written atomically
// by the monitor the moment it reaps the container's init, so that the exit
// survives the daemon (and the monitor) being gone.
#pragma once

#include <string>

#include "oci/monitor/client.h"

namespace crius::oci::monitor {

std::string exit_record_path(const std::string& dir, const std::string& id);
void write_exit(const std::string& dir, const std::string& id, const ExitInfo& info);
void remove_exit(const std::string& dir, const std::string& id);

// The exit a wait status tells, finished now.
ExitInfo exit_info(int wait_status);

nlohmann::json exit_to_json(const ExitInfo& info);
ExitInfo exit_from_json(const nlohmann::json& j);

}  // namespace crius::oci::monitor
