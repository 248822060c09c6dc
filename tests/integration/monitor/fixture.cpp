#include "tests/integration/monitor/fixture.h"
#include "tests/support/eventually.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

namespace crius::testing::monitor {

std::vector<HandlerParam> handlers_under_test() {
  std::vector<HandlerParam> v = {{"builtin", ""}};
#ifdef CRIUS_RUNC_PATH
  v.push_back({"runc", CRIUS_RUNC_PATH});
#endif
#ifdef CRIUS_CRUN_PATH
  v.push_back({"crun", CRIUS_CRUN_PATH});
#endif
  return v;
}

bool parse_log_line(const std::string& line, LogRecord* r) {
  // <time> <stream> <F|P> <content>
  auto a = line.find(' ');
  if (a == std::string::npos) return false;
  auto b = line.find(' ', a + 1);
  if (b == std::string::npos || b + 2 > line.size()) return false;
  r->time = line.substr(0, a);
  r->stream = line.substr(a + 1, b - a - 1);
  const char tag = line[b + 1];
  if (tag != 'F' && tag != 'P') return false;
  r->partial = tag == 'P';
  if (b + 2 == line.size()) {
    r->content.clear();
  } else {
    if (line[b + 2] != ' ') return false;
    r->content = line.substr(b + 3);
  }
  // 2026-11-22T12:42:44.123456789Z
  if (r->time.size() != 30 || r->time[10] != 'T' || r->time.back() != 'Z') return false;
  return r->stream == "stdout" || r->stream == "stderr";
}

std::vector<LogRecord> read_log(const fs::path& path) {
  std::vector<LogRecord> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    LogRecord r;
    if (!parse_log_line(line, &r)) {
      r.stream = "malformed";
      r.content = line;
    }
    out.push_back(std::move(r));
  }
  return out;
}

void StreamClient::send(mon::protocol::Channel ch, std::string_view payload) {
  send_raw(mon::protocol::encode_frame(ch, payload));
}

void StreamClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(s_.fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    // The monitor closes the stream once the process has exited and its exit
    // frame is out: input sent after that is lost, as on a real pipe, and the
    // exit frame (read by the test) tells how the process ended.
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return;
    if (n < 0) throw std::runtime_error(std::string("send on the stream: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void StreamClient::resize(unsigned width, unsigned height) {
  send(mon::protocol::Channel::resize, mon::protocol::resize_payload(width, height));
}

bool StreamClient::read_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[64 * 1024];
  while (!pred() && !closed) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd p = {s_.fd.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = ::read(s_.fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed = true;
      break;
    }
    reader_.feed({buf, static_cast<size_t>(n)});
    while (auto f = reader_.next()) {
      if (exit_code) frame_after_exit = true;
      switch (f->channel) {
        case mon::protocol::Channel::stdout:
          out_bytes += f->payload.size();
          if (keep_output) out += f->payload;
          break;
        case mon::protocol::Channel::stderr:
          err += f->payload;
          break;
        case mon::protocol::Channel::exit:
          exit_code = mon::protocol::decode(f->payload).value("exit_code", -1);
          break;
        default:
          ADD_FAILURE() << "unexpected frame on channel " << static_cast<int>(f->channel);
      }
    }
  }
  return pred();
}

size_t fd_count(pid_t pid) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

void MonitorTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  tmp_ = std::make_unique<rt::TempDir>("crius-mon-");
  fs::create_directories(tmp() / "root");
  fs::create_directories(tmp() / "logs");
  client_ = mon::Client::start(start_options());
  monitor_pid_ = client_->pid();
  ASSERT_GT(monitor_pid_, 0);
}

void MonitorTest::TearDown() {
  if (!tmp_) return;
  if (client_) {
    try {
      for (const auto& c : client_->list()) client_->remove(c.id);
      client_->shutdown();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup through the monitor failed: " << e.what();
    }
  }
  if (monitor_pid_ > 0 && !rt::wait_gone(monitor_pid_, 5s)) {
    ADD_FAILURE() << "monitor " << monitor_pid_ << " still running after shutdown";
    ::kill(monitor_pid_, SIGKILL);
    rt::wait_gone(monitor_pid_, 5s);
  }
  // A monitor that reported a failed start may still be exiting.
  eventually(
      [] {
        rt::reap_zombies();
        return rt::live_children().empty();
      },
      5s);
  EXPECT_TRUE(rt::live_children().empty()) << "processes left behind";
  EXPECT_TRUE(rt::mounts_under(tmp()).empty()) << "mounts left under " << tmp();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tmp() / "root", ec))
    ADD_FAILURE() << "runtime state left: " << e.path();
  for (const auto& e : fs::directory_iterator(mon_dir(), ec)) {
    const auto name = e.path().filename().string();
    if (name == "monitor.log" || name == "exits") continue;
    ADD_FAILURE() << "file left in the monitor dir: " << e.path();
  }
  for (const auto& e : fs::directory_iterator(mon_dir() / "exits", ec))
    ADD_FAILURE() << "exit record left: " << e.path();
  client_.reset();
  tmp_.reset();
}

mon::Handler MonitorTest::handler() const {
  mon::Handler h;
  h.name = GetParam().name;
  h.binary = GetParam().binary;
  h.root = (tmp() / "root").string();
  return h;
}

mon::StartOptions MonitorTest::start_options() const {
  mon::StartOptions o;
  o.binary = CRIUS_MONITOR_PATH;
  o.dir = mon_dir().string();
  o.pod_id = "pod-" + GetParam().name;
  o.handler = handler();
  return o;
}

std::unique_ptr<rt::Bundle> MonitorTest::bundle(const std::string& name, const std::string& script) {
  auto b = std::make_unique<rt::Bundle>(tmp() / name);
  b->sh(script);
  return b;
}

mon::ContainerOptions MonitorTest::options(const std::string& id, const rt::Bundle& b, const fs::path& log) {
  mon::ContainerOptions o;
  o.id = id;
  o.bundle = b.dir().string();
  o.log_path = log.string();
  return o;
}

pid_t MonitorTest::launch(const std::string& id, rt::Bundle& b, const fs::path& log, bool start) {
  b.write();
  const auto o = options(id, b, log);
  pid_t pid = client().create(o);
  if (start) client().start(id);
  return pid;
}

bool MonitorTest::wait_status(const std::string& id, const std::string& want, std::chrono::milliseconds timeout) {
  return eventually([&] { return client().status(id).status == want; }, timeout);
}

bool MonitorTest::wait_log(const fs::path& log, const std::string& content, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        for (const auto& r : read_log(log))
          if (r.content == content) return true;
        return false;
      },
      timeout);
}

nlohmann::json MonitorTest::process(const std::vector<std::string>& args) {
  return {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", args},
          {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}},
          {"cwd", "/"}};
}

}  // namespace crius::testing::monitor
