// The parametrized fixture of the monitor tests: each test runs once per
// runtime handler (builtin, runc, crun when installed) with a private
// monitor directory, runtime root and bundles, and checks at the end that no
// process, mount or file is left.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>

#include "base/error.h"
#include "oci/monitor/client.h"
#include "oci/monitor/protocol.h"
#include "tests/integration/runtime/harness.h"

namespace crius::testing::monitor {

namespace fs = std::filesystem;
namespace mon = crius::oci::monitor;
using namespace std::chrono_literals;

struct HandlerParam {
  std::string name;    // "builtin", "runc", "crun"
  std::string binary;  // empty for builtin
};

inline void PrintTo(const HandlerParam& p, std::ostream* os) { *os << p.name; }
std::vector<HandlerParam> handlers_under_test();

// One record of a CRI log file.
struct LogRecord {
  std::string time, stream;
  bool partial = false;
  std::string content;
};
std::vector<LogRecord> read_log(const fs::path& path);
// Parses one line (without its newline); false when malformed.
bool parse_log_line(const std::string& line, LogRecord* out);

// The client's end of an exec or attach stream, read with bounded waits.
class StreamClient {
 public:
  explicit StreamClient(mon::StreamConn s) : s_(std::move(s)) {}
  pid_t pid() const { return s_.pid; }
  bool tty() const { return s_.tty; }
  int fd() const { return s_.fd.get(); }

  void send(mon::protocol::Channel ch, std::string_view payload);
  void send_raw(std::string_view bytes);
  void write_stdin(std::string_view data) { send(mon::protocol::Channel::stdin, data); }
  void close_stdin() { send(mon::protocol::Channel::stdin, ""); }
  void resize(unsigned width, unsigned height);
  // Reads frames until pred() holds, the monitor closes the stream or the
  // timeout passes; returns pred().
  bool read_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s);
  bool wait_exit(std::chrono::milliseconds timeout = 10s) {
    return read_until([&] { return exit_code.has_value(); }, timeout);
  }
  bool wait_out(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
    return read_until([&] { return out.find(needle) != std::string::npos; }, timeout);
  }
  bool wait_closed(std::chrono::milliseconds timeout = 10s) {
    return read_until([&] { return closed; }, timeout);
  }
  void close() { s_.fd.reset(); }

  std::string out, err;
  size_t out_bytes = 0;  // counted even when keep_output is false
  bool keep_output = true;
  std::optional<int> exit_code;
  bool closed = false;             // the monitor closed the stream
  bool frame_after_exit = false;   // a protocol violation

 private:
  mon::StreamConn s_;
  mon::protocol::FrameReader reader_;
};

// Open file descriptors of a process.
size_t fd_count(pid_t pid);

class MonitorTest : public ::testing::TestWithParam<HandlerParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  mon::Handler handler() const;
  mon::StartOptions start_options() const;
  mon::Client& client() { return *client_; }
  fs::path mon_dir() const { return tmp_->path() / "mon"; }
  fs::path tmp() const { return tmp_->path(); }
  // A bundle running `script` with sh; the rootfs is writable.
  std::unique_ptr<rt::Bundle> bundle(const std::string& name, const std::string& script);
  static mon::ContainerOptions options(const std::string& id, const rt::Bundle& b, const fs::path& log);
  // create + start; returns the pid.
  pid_t launch(const std::string& id, rt::Bundle& b, const fs::path& log, bool start = true);
  // Polls status until it is `want` (bounded).
  bool wait_status(const std::string& id, const std::string& want, std::chrono::milliseconds timeout = 20s);
  // Polls the log file until a record holds `content` (bounded).
  bool wait_log(const fs::path& log, const std::string& content, std::chrono::milliseconds timeout = 10s);
  static nlohmann::json process(const std::vector<std::string>& args);

  std::unique_ptr<rt::TempDir> tmp_;
  std::optional<mon::Client> client_;
  pid_t monitor_pid_ = 0;
};

#define CRIUS_MONITOR_SUITE(Suite)                      \
  class Suite : public MonitorTest {};                  \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Suite); \
  INSTANTIATE_TEST_SUITE_P(Handler, Suite, ::testing::ValuesIn(handlers_under_test()), \
                           [](const auto& info) { return info.param.name; })

}  // namespace crius::testing::monitor
