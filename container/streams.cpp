// Exec and attach streams (kubectl exec/attach, crictl exec -it): the
// container checked, then a stream opened through its pod's monitor, which
// runs the process or copies the output; the streaming server carries the
// frames to its client.
#include "container/containers.h"
#include "container/pod_context.h"

#include "base/error.h"

namespace crius::container {

namespace {

// The process runs under a terminal that claims to be an xterm, as
// containerd does for a tty exec (replacing the image's TERM).
void set_term(nlohmann::json& process) {
  nlohmann::json env = nlohmann::json::array();
  for (const auto& v : process.value("env", nlohmann::json::array()))
    if (!(v.is_string() && v.get<std::string>().starts_with("TERM="))) env.push_back(v);
  env.push_back("TERM=xterm");
  process["env"] = std::move(env);
}

}  // namespace

StreamTarget Containers::stream_target(const std::string& id) {
  const Record rec = get(id);
  StreamTarget t;
  t.id = rec.id;
  t.running = rec.state == State::running;
  t.tty = rec.config.tty();
  t.stdin = rec.config.stdin();
  t.stdin_once = rec.config.stdin_once();
  return t;
}

oci::monitor::StreamConn Containers::open_exec(const std::string& id, const std::vector<std::string>& cmd, bool tty,
                                               bool stdin) {
  if (cmd.empty()) throw InvalidArgument("Exec: cmd is empty");
  const Record rec = get(id);
  if (rec.state != State::running)
    throw FailedPrecondition("container " + rec.id + " is not running; cannot exec in it");
  nlohmann::json process = exec_process_for(rec, cmd);
  if (tty) {
    process["terminal"] = true;
    set_term(process);
  }
  return held_monitor(rec).exec_stream(rec.id, process, tty, stdin);
}

oci::monitor::StreamConn Containers::open_attach(const std::string& id, bool stdin) {
  const Record rec = get(id);
  if (rec.state != State::running)
    throw FailedPrecondition("container " + rec.id + " is not running; cannot attach to it");
  return held_monitor(rec).attach_stream(rec.id, stdin);
}

}  // namespace crius::container
