#include "oci/runtime/seccomp_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd.h"
#include "base/fd_passing.h"
#include "base/file.h"
#include "oci/runtime/state.h"

namespace crius::oci::runtime {

nlohmann::ordered_json container_process_state(const Seccomp& s, pid_t pid, const nlohmann::ordered_json& state) {
  nlohmann::ordered_json j;
  j["ociVersion"] = kOciVersion;
  j["fds"] = {"seccompFd"};
  j["pid"] = pid;
  j["metadata"] = s.listener_metadata;
  j["state"] = state;
  return j;
}

void send_to_seccomp_listener(const Seccomp& s, int seccomp_fd, pid_t pid, const nlohmann::ordered_json& state) {
  const std::string& path = s.listener_path;
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw InvalidArgument("linux.seccomp.listenerPath " + path + " is too long for a unix socket");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno("seccomp listener: socket");
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("seccomp listener: connect to " + path);

  const std::string msg = container_process_state(s, pid, state).dump();
  // The fd rides with the first bytes; the rest follows as plain data.
  const ssize_t n = send_with_fd(sock.get(), msg.data(), msg.size(), seccomp_fd);
  if (n < 0) throw_errno("seccomp listener: send the state and fd to " + path);
  if (static_cast<size_t>(n) < msg.size() &&
      !write_all(sock.get(), msg.data() + n, msg.size() - static_cast<size_t>(n)))
    throw_errno("seccomp listener: send the state to " + path);
}

}  // namespace crius::oci::runtime
