// Exec, Attach and PortForward: validate as kubelet's own streaming server
// does, then hand out a single-use URL of the streaming server; the session
// itself starts when the client connects to it.
#include "base/error.h"
#include "server/cri_validate.h"
#include "server/services.h"

namespace crius::server {

namespace {

void check_stdio(const char* rpc, bool tty, bool in, bool out, bool err) {
  // A terminal has one output stream: stderr cannot be told apart from stdout.
  if (tty && err) throw InvalidArgument(std::string(rpc) + ": tty and stderr cannot both be true");
  if (!in && !out && !err) throw InvalidArgument(std::string(rpc) + ": one of stdin, stdout or stderr must be set");
}

// The container by ID or prefix, which must be running.
std::string running_container(container::Containers& containers, const char* rpc, const std::string& id) {
  if (id.empty()) throw InvalidArgument(std::string(rpc) + ": container_id is required");
  const container::Record rec = containers.get(id);
  if (rec.state != container::State::running)
    throw FailedPrecondition(std::string(rpc) + ": container " + rec.id + " is not running");
  return rec.id;
}

}  // namespace

grpc::ServerUnaryReactor* RuntimeService::Exec(grpc::CallbackServerContext* ctx, const v1::ExecRequest* req,
                                               v1::ExecResponse* res) {
  return rpc_.fast(ctx, "Exec", [this, req, res] {
    check_stdio("Exec", req->tty(), req->stdin(), req->stdout(), req->stderr());
    if (req->cmd().empty()) throw InvalidArgument("Exec: cmd is required");
    check_exec_cmd(req->cmd());
    streaming::ExecRequest r;
    r.container_id = running_container(containers_, "Exec", req->container_id());
    r.cmd.assign(req->cmd().begin(), req->cmd().end());
    r.tty = req->tty();
    r.stdin = req->stdin();
    r.stdout = req->stdout();
    r.stderr = req->stderr();
    res->set_url(streams_.url(std::move(r)));
  });
}

grpc::ServerUnaryReactor* RuntimeService::Attach(grpc::CallbackServerContext* ctx, const v1::AttachRequest* req,
                                                 v1::AttachResponse* res) {
  return rpc_.fast(ctx, "Attach", [this, req, res] {
    check_stdio("Attach", req->tty(), req->stdin(), req->stdout(), req->stderr());
    streaming::AttachRequest r;
    r.container_id = running_container(containers_, "Attach", req->container_id());
    r.tty = req->tty();
    r.stdin = req->stdin();
    r.stdout = req->stdout();
    r.stderr = req->stderr();
    res->set_url(streams_.url(std::move(r)));
  });
}

grpc::ServerUnaryReactor* RuntimeService::PortForward(grpc::CallbackServerContext* ctx,
                                                      const v1::PortForwardRequest* req, v1::PortForwardResponse* res) {
  return rpc_.fast(ctx, "PortForward", [this, req, res] {
    if (req->pod_sandbox_id().empty()) throw InvalidArgument("PortForward: pod_sandbox_id is required");
    streaming::PortForwardRequest r;
    for (int i = 0; i < req->port_size(); ++i) {
      const int32_t p = req->port(i);
      if (p < 1 || p > 65535)
        throw InvalidArgument("PortForward: port[" + std::to_string(i) + "] must be 1 to 65535, got " +
                              std::to_string(p));
      r.ports.push_back(p);
    }
    const sandbox::Record pod = sandboxes_.get(req->pod_sandbox_id());
    if (pod.state != sandbox::State::ready)
      throw FailedPrecondition("PortForward: pod sandbox " + pod.id + " is not ready");
    r.pod_id = pod.id;
    res->set_url(streams_.url(std::move(r)));
  });
}

}  // namespace crius::server
