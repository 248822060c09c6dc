#include "oci/cgroups/dbus_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/hex.h"

namespace crius::oci::dbus {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// "unix:path=/run/x,guid=…" → sockaddr; the first unix entry of the list.
sockaddr_un parse_address(const std::string& address, socklen_t& len) {
  size_t i = 0;
  while (i <= address.size()) {
    size_t j = address.find(';', i);
    if (j == std::string::npos) j = address.size();
    const std::string entry = address.substr(i, j - i);
    i = j + 1;
    if (!entry.starts_with("unix:")) continue;
    std::string path;
    bool abstract = false;
    size_t k = 5;
    while (k < entry.size()) {
      size_t e = entry.find(',', k);
      if (e == std::string::npos) e = entry.size();
      const std::string kv = entry.substr(k, e - k);
      k = e + 1;
      if (kv.starts_with("path=")) path = kv.substr(5);
      if (kv.starts_with("abstract=")) path = kv.substr(9), abstract = true;
    }
    if (path.empty()) continue;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    const size_t off = abstract ? 1 : 0;
    if (path.size() + off >= sizeof(sa.sun_path)) throw InvalidArgument("D-Bus address " + address + ": path too long");
    std::memcpy(sa.sun_path + off, path.data(), path.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + off + path.size() + (abstract ? 0 : 1));
    return sa;
  }
  throw InvalidArgument("D-Bus address \"" + address + "\" has no unix:path= or unix:abstract= entry");
}

void send_all(int fd, const std::string& data, Clock::time_point deadline, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) == 0) throw DeadlineExceeded("D-Bus: timed out " + what);
      continue;
    }
    throw Unavailable(errno_text("D-Bus: " + what, errno));
  }
}

// Reads what is there (waiting until the deadline); false at the deadline.
bool read_some(int fd, std::string& into, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Unavailable(errno_text("D-Bus: poll while " + what, errno));
    if (r == 0) return false;
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw Unavailable(errno_text("D-Bus: read while " + what, errno));
    if (n == 0) throw Unavailable("D-Bus: the peer closed the connection while " + what);
    into.append(buf, static_cast<size_t>(n));
    return true;
  }
}

}  // namespace

Connection::Connection(const std::string& address, bool bus, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  socklen_t len = 0;
  const sockaddr_un sa = parse_address(address, len);
  // fd_ is a member: a constructor that throws below still closes it.
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw Internal(errno_text("D-Bus: socket", errno));
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
    const int err = errno;
    throw FailedPrecondition(errno_text("D-Bus: connect to " + address, err));
  }
  // SASL: a nul byte, then EXTERNAL with our uid (decimal, hex-encoded);
  // the server checks it against the socket's peer credentials.
  send_all(fd_.get(), std::string(1, '\0') + "AUTH EXTERNAL " + hex_encode(std::to_string(::getuid())) + "\r\n",
           deadline, "authenticating");
  std::string line;
  while (line.find("\r\n") == std::string::npos)
    if (!read_some(fd_.get(), line, deadline, "authenticating"))
      throw DeadlineExceeded("D-Bus: no answer to AUTH from " + address);
  if (!line.starts_with("OK "))
    throw PermissionDenied("D-Bus: " + address + " refused EXTERNAL authentication: " +
                           line.substr(0, line.find("\r\n")));
  // Anything after the OK line would already be message bytes; the server
  // sends none before BEGIN.
  send_all(fd_.get(), "BEGIN\r\n", deadline, "authenticating");
  if (bus) {
    auto r = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", {}, timeout);
    if (!r.empty()) unique_name_ = r[0].str;
  }
}

void Connection::send(Message& m) {
  m.serial = next_serial_++;
  send_all(fd_.get(), m.serialize(), Clock::now() + std::chrono::seconds(5), "sending " + m.member);
}

void Connection::keep(Message m) {
  // Signals nobody asks for (other jobs' JobRemoved) must not pile up.
  if (signals_.size() >= 1024) signals_.pop_front();
  signals_.push_back(std::move(m));
}

std::optional<Message> Connection::receive(Clock::time_point deadline) {
  for (;;) {
    if (size_t n = Message::wire_size(inbuf_); n && inbuf_.size() >= n) {
      Message m = Message::parse(inbuf_.substr(0, n));
      inbuf_.erase(0, n);
      return m;
    }
    if (!read_some(fd_.get(), inbuf_, deadline, "waiting for a message")) return std::nullopt;
  }
}

std::vector<Value> Connection::call(const std::string& destination, const std::string& path,
                                    const std::string& interface, const std::string& member, std::vector<Value> args,
                                    std::chrono::milliseconds timeout) {
  Message m;
  m.type = MessageType::method_call;
  m.destination = destination;
  m.path = path;
  m.interface = interface;
  m.member = member;
  m.body = std::move(args);
  send(m);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto r = receive(deadline);
    if (!r) throw DeadlineExceeded("D-Bus: no reply to " + interface + "." + member + " within " +
                                   std::to_string(timeout.count()) + "ms");
    if (r->type == MessageType::signal) {
      keep(std::move(*r));
      continue;
    }
    if (r->reply_serial != m.serial) continue;  // a reply to something we gave up on
    if (r->type == MessageType::error) {
      std::string text = !r->body.empty() && r->body[0].sig == "s" ? r->body[0].str : "";
      throw CallError(r->error_name, interface + "." + member + ": " + r->error_name + (text.empty() ? "" : ": " + text));
    }
    return std::move(r->body);
  }
}

std::optional<Message> Connection::wait_signal(const std::function<bool(const Message&)>& match,
                                               Clock::time_point deadline) {
  for (auto it = signals_.begin(); it != signals_.end(); ++it) {
    if (match(*it)) {
      Message m = std::move(*it);
      signals_.erase(it);
      return m;
    }
  }
  for (;;) {
    auto r = receive(deadline);
    if (!r) return std::nullopt;
    if (r->type != MessageType::signal) continue;
    if (match(*r)) return r;
    keep(std::move(*r));
  }
}

}  // namespace crius::oci::dbus
