#include "tests/support/spdy_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace crius::testing {

namespace spdy = streaming::spdy;

namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// Appends what arrives within the deadline; false at EOF, error or timeout.
bool recv_some(int fd, std::string& buf, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
  char tmp[16384];
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<std::size_t>(n));
  return true;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the reader sees the connection end
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

SpdyClient::SpdyClient(SpdyClientOptions o) : opts_(o) {}

SpdyClient::~SpdyClient() { disconnect(); }

std::unique_ptr<SpdyClient> SpdyClient::connect(const std::string& host, uint16_t port, const std::string& path,
                                                std::vector<std::string> protocols, SpdyClientOptions o,
                                                const Headers& extra_headers) {
  std::unique_ptr<SpdyClient> c(new SpdyClient(o));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error("spdy client: resolve " + host + ": " + gai_strerror(rc));
  }
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      // Small frames (WINDOW_UPDATE, PING) must not wait for Nagle.
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c->fd_ = fd;
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (c->fd_ < 0) throw std::runtime_error("spdy client: connect to " + host + ":" + std::to_string(port) + " failed");
  c->upgrade(host, port, path, protocols, extra_headers);
  return c;
}

std::unique_ptr<SpdyClient> SpdyClient::over_fd(int fd, SpdyClientOptions o) {
  std::unique_ptr<SpdyClient> c(new SpdyClient(o));
  c->fd_ = fd;
  c->status_ = 101;
  c->start_spdy({});
  return c;
}

void SpdyClient::upgrade(const std::string& host, uint16_t port, const std::string& path,
                         const std::vector<std::string>& protocols, const Headers& extra) {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n";
  for (const auto& p : protocols) req += "X-Stream-Protocol-Version: " + p + "\r\n";
  for (const auto& [n, v] : extra) req += n + ": " + v + "\r\n";
  req += "\r\n";
  send_all(fd_, req);

  auto deadline = Clock::now() + opts_.timeout;
  std::string buf;
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!recv_some(fd_, buf, deadline)) throw std::runtime_error("spdy client: no HTTP answer to the upgrade");
  }
  std::string head = buf.substr(0, end + 2);
  std::string rest = buf.substr(end + 4);
  auto eol = head.find("\r\n");
  std::string status_line = head.substr(0, eol);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    throw std::runtime_error("spdy client: not an HTTP status line: " + status_line);
  }
  status_ = std::stoi(status_line.substr(9, 3));
  for (std::size_t pos = eol + 2; pos < head.size();) {
    auto next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next - pos);
    pos = next + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    response_headers_.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  if (status_ == 101) {
    start_spdy(std::move(rest));
    return;
  }
  // The body: by Content-Length, chunked, or up to EOF.
  std::string length = response_header("content-length");
  if (!length.empty()) {
    std::size_t want = std::stoul(length);
    while (rest.size() < want && recv_some(fd_, rest, deadline)) {
    }
    body_ = rest.substr(0, want);
  } else if (lower(response_header("transfer-encoding")).find("chunked") != std::string::npos) {
    std::size_t pos = 0;
    for (;;) {
      std::size_t crlf;
      while ((crlf = rest.find("\r\n", pos)) == std::string::npos && recv_some(fd_, rest, deadline)) {
      }
      if (crlf == std::string::npos) break;
      std::size_t size = std::stoul(rest.substr(pos, crlf - pos), nullptr, 16);
      if (size == 0) break;
      while (rest.size() < crlf + 2 + size + 2 && recv_some(fd_, rest, deadline)) {
      }
      if (rest.size() < crlf + 2 + size) break;
      body_ += rest.substr(crlf + 2, size);
      pos = crlf + 2 + size + 2;
    }
  } else {
    while (recv_some(fd_, rest, deadline)) {
    }
    body_ = rest;
  }
}

void SpdyClient::start_spdy(std::string already_read) {
  if (opts_.flow_control) {
    send(spdy::encode_settings({{0, spdy::kSettingInitialWindowSize, opts_.window}}));
  }
  reader_ = std::thread([this, first = std::move(already_read)]() mutable {
    spdy::FrameDecoder decoder(opts_.max_frame);
    spdy::HeaderInflater inflater;
    std::string buf = std::move(first);
    std::string why = "peer closed the connection";
    for (;;) {
      decoder.feed(buf);
      buf.clear();
      try {
        while (auto f = decoder.next()) {
          if (f->type == spdy::FrameType::syn_stream || f->type == spdy::FrameType::syn_reply ||
              f->type == spdy::FrameType::headers) {
            Headers h = inflater.decompress(f->payload);
            f->payload = spdy::serialize_headers(h);  // hand it on uncompressed
          }
          handle(*f);
        }
      } catch (const std::exception& e) {
        why = e.what();
        break;
      }
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n < 0) why = std::string("recv: ") + std::strerror(errno);
        break;
      }
      buf.assign(tmp, static_cast<std::size_t>(n));
    }
    std::lock_guard lock(mu_);
    closed_ = true;
    close_reason_ = why;
    cv_.notify_all();
  });
}

void SpdyClient::handle(spdy::Frame& f) {
  std::vector<std::string> replies;
  {
    std::lock_guard lock(mu_);
    switch (f.type) {
      case spdy::FrameType::syn_reply: {
        auto& s = streams_[f.stream_id];
        s.st.replied = true;
        s.st.reply_headers = spdy::parse_headers(f.payload);
        if (f.flags & spdy::kFlagFin) s.st.remote_fin = true;
        break;
      }
      case spdy::FrameType::headers:
        if (f.flags & spdy::kFlagFin) streams_[f.stream_id].st.remote_fin = true;
        break;
      case spdy::FrameType::syn_stream:
        // The server opens no streams in these protocols.
        replies.push_back(spdy::encode_rst_stream(f.stream_id, spdy::kRefusedStream));
        break;
      case spdy::FrameType::rst_stream: {
        auto& s = streams_[f.stream_id];
        s.st.reset = true;
        s.st.rst_status = f.status;
        break;
      }
      case spdy::FrameType::data: {
        auto& s = streams_[f.stream_id];
        if (!f.payload.empty()) {
          s.st.unread += f.payload.size();
          s.st.max_unread = std::max(s.st.max_unread, s.st.unread);
          s.chunks.push_back(std::move(f.payload));
          // Session window back on receipt; stream window as the test reads.
          if (opts_.flow_control) {
            replies.push_back(spdy::encode_window_update(0, static_cast<uint32_t>(s.chunks.back().size())));
          }
        }
        if (f.flags & spdy::kFlagFin) s.st.remote_fin = true;
        break;
      }
      case spdy::FrameType::settings:
        for (const auto& st : f.settings) {
          if (st.id != spdy::kSettingInitialWindowSize) continue;
          int64_t delta = int64_t{st.value} - peer_initial_window_;
          peer_initial_window_ = st.value;
          for (auto& [id, s] : streams_) s.send_window += delta;
        }
        break;
      case spdy::FrameType::window_update:
        if (f.stream_id == 0) {
          send_window_ += f.delta;
        } else {
          streams_[f.stream_id].send_window += f.delta;
        }
        break;
      case spdy::FrameType::ping:
        if (f.ping_id % 2 == 1) {
          ping_replies_.push_back(f.ping_id);
        } else {
          replies.push_back(spdy::encode_ping(f.ping_id));
        }
        break;
      case spdy::FrameType::goaway: goaway_ = f.status; break;
    }
    cv_.notify_all();
  }
  for (const auto& r : replies) send(r);
}

void SpdyClient::send(const std::string& frame) {
  std::lock_guard lock(write_mu_);
  send_all(fd_, frame);
}

std::string SpdyClient::response_header(std::string_view lowercase_name) const {
  return spdy::header_value(response_headers_, lowercase_name);
}

int SpdyClient::open_stream(const Headers& headers, std::chrono::milliseconds timeout, bool fin) {
  if (!upgraded()) throw std::logic_error("spdy client: open_stream without an upgraded connection");
  uint32_t id;
  {
    std::lock_guard wlock(write_mu_);
    id = next_stream_id_;
    next_stream_id_ += 2;
    {
      std::lock_guard lock(mu_);
      auto& s = streams_[id];
      s.send_window = peer_initial_window_;
      s.st.local_fin = fin;
    }
    send_all(fd_, spdy::encode_syn_stream(id, 0, 0, fin ? spdy::kFlagFin : 0, deflater_.compress(headers)));
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] {
    const auto& st = streams_[id].st;
    return st.replied || st.reset || closed_;
  });
  return static_cast<int>(id);
}

void SpdyClient::send_syn_stream(uint32_t id, const Headers& headers, uint8_t flags) {
  std::lock_guard wlock(write_mu_);
  {
    std::lock_guard lock(mu_);
    streams_[id].send_window = peer_initial_window_;
  }
  send_all(fd_, spdy::encode_syn_stream(id, 0, 0, flags, deflater_.compress(headers)));
}

bool SpdyClient::write(int stream, std::string_view data, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  uint32_t id = static_cast<uint32_t>(stream);
  while (!data.empty()) {
    std::size_t n = std::min<std::size_t>(data.size(), 16 * 1024);
    {
      std::unique_lock lock(mu_);
      auto& s = streams_[id];
      if (opts_.flow_control) {
        bool ok = cv_.wait_until(lock, deadline, [&] {
          return s.st.reset || closed_ || (s.send_window > 0 && send_window_ > 0);
        });
        if (!ok) return false;
      }
      if (s.st.reset || closed_) return false;
      if (opts_.flow_control) {
        n = std::min<std::size_t>(n, static_cast<std::size_t>(std::min(s.send_window, send_window_)));
      }
      s.send_window -= static_cast<int64_t>(n);
      send_window_ -= static_cast<int64_t>(n);
    }
    send(spdy::encode_data(id, data.substr(0, n)));
    data.remove_prefix(n);
  }
  return true;
}

void SpdyClient::close_write(int stream) {
  {
    std::lock_guard lock(mu_);
    streams_[static_cast<uint32_t>(stream)].st.local_fin = true;
  }
  send(spdy::encode_data(static_cast<uint32_t>(stream), {}, spdy::kFlagFin));
}

void SpdyClient::reset(int stream, uint32_t status) {
  {
    std::lock_guard lock(mu_);
    streams_[static_cast<uint32_t>(stream)].st.reset = true;
  }
  send(spdy::encode_rst_stream(static_cast<uint32_t>(stream), status));
}

std::optional<std::string> SpdyClient::read(int stream, std::chrono::milliseconds timeout) {
  uint32_t id = static_cast<uint32_t>(stream);
  std::string chunk;
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] {
      auto& s = streams_[id];
      return !s.chunks.empty() || s.st.remote_fin || s.st.reset || closed_;
    });
    auto& s = streams_[id];
    if (s.chunks.empty()) return std::nullopt;
    chunk = std::move(s.chunks.front());
    s.chunks.pop_front();
    s.st.unread -= chunk.size();
    if (s.st.remote_fin || s.st.reset) return chunk;
  }
  if (opts_.flow_control) send(spdy::encode_window_update(id, static_cast<uint32_t>(chunk.size())));
  return chunk;
}

std::string SpdyClient::read_all(int stream, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string out;
  while (auto chunk = read(stream, std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::max(deadline - Clock::now(), Clock::duration::zero())))) {
    out += *chunk;
  }
  return out;
}

bool SpdyClient::wait_ended(int stream, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    const auto& st = streams_[static_cast<uint32_t>(stream)].st;
    return st.remote_fin || st.reset;
  });
}

SpdyStreamState SpdyClient::state(int stream) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(static_cast<uint32_t>(stream));
  return it == streams_.end() ? SpdyStreamState{} : it->second.st;
}

bool SpdyClient::ping(std::chrono::milliseconds timeout) {
  uint32_t id;
  {
    std::lock_guard wlock(write_mu_);
    id = next_ping_id_;
    next_ping_id_ += 2;
    send_all(fd_, spdy::encode_ping(id));
  }
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return std::find(ping_replies_.begin(), ping_replies_.end(), id) != ping_replies_.end();
  });
}

std::optional<uint32_t> SpdyClient::goaway_status() const {
  std::lock_guard lock(mu_);
  return goaway_;
}

bool SpdyClient::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_; });
}

bool SpdyClient::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::string SpdyClient::close_reason() const {
  std::lock_guard lock(mu_);
  return close_reason_;
}

void SpdyClient::send_raw(std::string_view bytes) {
  std::lock_guard lock(write_mu_);
  send_all(fd_, bytes);
}

void SpdyClient::close() {
  if (fd_ >= 0 && upgraded() && !closed()) send(spdy::encode_goaway(0, spdy::kGoAwayOk));
  disconnect();
}

void SpdyClient::disconnect() {
  if (fd_ < 0) return;
  ::shutdown(fd_, SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
  ::close(fd_);
  fd_ = -1;
}

}  // namespace crius::testing
