// The session handlers, one per protocol and carrier, called once the
// connection is upgraded. Each keeps itself alive until its connection ends.
#pragma once

#include <memory>
#include <string>

#include "server/streaming/context.h"
#include "server/streaming/requests.h"
#include "server/streaming/ws_conn.h"

namespace crius::streaming {

namespace spdy {
class Session;
}

// remotecommand over SPDY: version 1 (channel.k8s.io) to 4.
void serve_spdy_remote_command(std::shared_ptr<spdy::Session> s, int version, Request r,
                               std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot);
// remotecommand over a WebSocket with the negotiated channel protocol.
void serve_ws_remote_command(std::shared_ptr<WsConn> ws, const std::string& protocol, Request r,
                             std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot);
// portforward.k8s.io over SPDY (also inside the WebSocket tunnel).
void serve_spdy_port_forward(std::shared_ptr<spdy::Session> s, PortForwardRequest r, std::shared_ptr<Context> ctx,
                             std::shared_ptr<SessionSlot> slot);
// The WebSocket channel form: a data and an error channel per port.
void serve_ws_port_forward(std::shared_ptr<WsConn> ws, const std::string& protocol, PortForwardRequest r,
                           std::shared_ptr<Context> ctx, std::shared_ptr<SessionSlot> slot);

}  // namespace crius::streaming
