#include "tests/bench/cri/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace crius::bench {

namespace {

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

}  // namespace

FirstByteProxy::FirstByteProxy(const std::string& upstream) {
  upstream_port_ = std::stoi(upstream.substr(upstream.rfind(':') + 1));
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error(std::string("proxy: bind/listen on loopback: ") + std::strerror(errno));
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  host_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  acceptor_ = std::thread([this] { accept_loop(); });
}

FirstByteProxy::~FirstByteProxy() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : relays_)
    if (t.joinable()) t.join();
  ::close(listen_fd_);
}

void FirstByteProxy::watch(const std::vector<std::string>& digests) {
  std::lock_guard lock(mu_);
  hexes_.clear();
  for (const auto& d : digests) hexes_.push_back(d.substr(d.find(':') + 1));
  first_.reset();
}

std::optional<FirstByteProxy::Clock::time_point> FirstByteProxy::first_byte() const {
  std::lock_guard lock(mu_);
  return first_;
}

bool FirstByteProxy::watched(const std::string& request) const {
  if (request.find("GET ") == std::string::npos) return false;
  std::lock_guard lock(mu_);
  for (const auto& h : hexes_)
    if (request.find(h) != std::string::npos) return true;
  return false;
}

void FirstByteProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    relays_.emplace_back([this, c] { relay(c); });
  }
}

void FirstByteProxy::relay(int client) {
  int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(upstream_port_);
  if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(up);
    ::close(client);
    return;
  }
  std::vector<char> buf(1 << 20);
  bool awaiting = false;  // a watched GET was sent; its response has not started
  while (!stop_) {
    pollfd p[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
    int r = ::poll(p, 2, 100);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    bool open = true;
    for (int i = 0; i < 2 && open; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::recv(p[i].fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        open = false;
        break;
      }
      if (i == 0) {
        if (watched(std::string(buf.data(), static_cast<size_t>(n)))) awaiting = true;
      } else if (awaiting) {
        awaiting = false;
        std::lock_guard lock(mu_);
        if (!first_) first_ = Clock::now();
      }
      open = write_all(p[1 - i].fd, buf.data(), static_cast<size_t>(n));
    }
    if (!open) break;
  }
  ::close(up);
  ::close(client);
}

}  // namespace crius::bench
