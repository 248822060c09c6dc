#include "tests/unit/server/streaming/fake_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <deque>
#include <optional>
#include <cstring>

#include <boost/asio/post.hpp>

#include "base/error.h"
#include "base/strings.h"

namespace crius::streaming::testing {

namespace {

class FakeProcess : public ProcessIo {
 public:
  FakeProcess(FakeBackend& b, boost::asio::any_io_executor io, std::vector<std::string> cmd)
      : b_(b), io_(io), cmd_(std::move(cmd)), state_(std::make_shared<State>()) {
    ++b_.alive;
  }
  ~FakeProcess() override { --b_.alive; }

  void start(Handlers h) override {
    ++b_.started;
    state_->h = std::move(h);
    const std::string what = cmd_.empty() ? "" : cmd_[0];
    if (what == "echo") {
      std::string line;
      for (size_t i = 1; i < cmd_.size(); ++i) line += (i > 1 ? " " : "") + cmd_[i];
      out(line + "\n");
      finish(0);
    } else if (what == "exit") {
      finish(std::stoi(cmd_.at(1)));
    } else if (what == "err") {
      post([s = state_, t = cmd_.at(1)] {
        if (s->h.stderr_data) s->h.stderr_data(t);
      });
      finish(0);
    } else if (what == "flood") {
      out(std::string(std::stoul(cmd_.at(1)), 'x'));
      finish(0);
    }
  }
  // Output goes out one chunk per ack, as the monitor's frames do.
  void ack() override {
    post([s = state_] {
      s->in_flight = false;
      pump(s);
    });
  }
  void write_stdin(std::string data, std::function<void()> written) override {
    if (cmd_.at(0) == "cat") out(data);
    if (written) post(std::move(written));
  }
  void close_stdin() override {
    if (cmd_.at(0) == "cat" || cmd_.at(0) == "size") finish(0);
  }
  void resize(uint16_t w, uint16_t h) override {
    if (cmd_.at(0) == "size") out(std::to_string(w) + " " + std::to_string(h) + "\n");
  }
  void close() override {
    if (!state_->closed) ++b_.hung_up;
    state_->closed = true;
  }

 private:
  struct State {
    Handlers h;
    bool closed = false, ended = false, in_flight = false;
    std::deque<std::string> out;
    std::optional<int> exit;
  };
  static constexpr size_t kChunk = 64 * 1024;
  // Delivers the next chunk once the last was acked; the exit after the output.
  static void pump(const std::shared_ptr<State>& s) {
    if (s->closed || s->in_flight) return;
    if (!s->out.empty()) {
      std::string d = std::move(s->out.front());
      s->out.pop_front();
      s->in_flight = true;
      if (s->h.stdout_data) s->h.stdout_data(d);
      return;
    }
    if (s->exit && !s->ended) {
      s->ended = true;
      if (s->h.exited) s->h.exited(*s->exit);
    }
  }
  void post(std::function<void()> f) { boost::asio::post(io_, std::move(f)); }
  void out(std::string d) {
    post([s = state_, d = std::move(d)] {
      for (size_t i = 0; i < d.size(); i += kChunk) s->out.push_back(d.substr(i, kChunk));
      pump(s);
    });
  }
  void finish(int code) {
    post([s = state_, code] {
      s->exit = code;
      pump(s);
    });
  }
  FakeBackend& b_;
  boost::asio::any_io_executor io_;
  std::vector<std::string> cmd_;
  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<ProcessIo> FakeBackend::exec(const ExecRequest& r, boost::asio::any_io_executor io) {
  if (!r.cmd.empty() && r.cmd[0] == "gone") throw NotFound("container " + r.container_id + " not found");
  return std::make_unique<FakeProcess>(*this, io, r.cmd);
}

std::unique_ptr<ProcessIo> FakeBackend::attach(const AttachRequest& r, boost::asio::any_io_executor io) {
  // An attached "container" that echoes its input, like `cat` as PID 1.
  (void)r;
  return std::make_unique<FakeProcess>(*this, io, std::vector<std::string>{"cat"});
}

Fd FakeBackend::connect(const std::string&, uint16_t port) {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw Unavailable("connect to localhost:" + std::to_string(port) + ": " + std::strerror(errno));
  return s;
}

}  // namespace crius::streaming::testing
