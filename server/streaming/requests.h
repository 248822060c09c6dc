// What an Exec, Attach or PortForward RPC asked for, kept under its token
// until the client connects to the URL the RPC returned.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace crius::streaming {

struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false, stdin = false, stdout = false, stderr = false;
};

struct AttachRequest {
  std::string container_id;
  bool tty = false, stdin = false, stdout = false, stderr = false;
};

struct PortForwardRequest {
  std::string pod_id;
  std::vector<int32_t> ports;  // for the WebSocket form; SPDY clients name ports per stream
};

using Request = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;

// "exec", "attach" or "portforward": the URL path's first segment.
const char* kind_of(const Request& r);

}  // namespace crius::streaming
