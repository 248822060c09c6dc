#include "image/pull_helper.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/crash_point.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/process.h"
#include "base/self_exe.h"
#include "base/spawn.h"

namespace crius::image {
namespace {

constexpr const char* kPullName = "crius-pull";
// The longest line a helper may write (a result names each layer once).
constexpr size_t kMaxLine = 1 << 20;

std::string log_format_name() { return log::format() == log::Format::json ? "json" : "logfmt"; }

// How a helper ended, for the error of one that answered nothing.
std::string ending(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by ") + strsignal(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

PullResult run_helper(const std::string& binary, const PullRequest& request, const PullEvents& events) {
  if (binary.empty())
    throw FailedPrecondition(std::string("the ") + kPullName + " binary is missing (looked beside the crius binary)");
  Pipe in = make_pipe("the pull helper's stdin");
  Pipe out = make_pipe("the pull helper's stdout");
  SpawnOptions o;
  o.args = {binary, "--parent", std::to_string(::getpid()), "--log-level", std::string(log::level_name(log::level())),
            "--log-format", log_format_name()};
  o.fds = {{in.read.get(), 0}, {out.write.get(), 1}, {log::output_fd(), 2}};
  o.new_group = true;  // a Ctrl-C meant for a daemon in a terminal is not the pull's
  const Spawned s = spawn(o);
  if (s.pid < 0) throw Internal(errno_text(std::string("starting ") + binary, s.error));
  in.read.reset();
  out.write.reset();
  // Whatever happens below, the helper is not left running or unreaped.
  struct Reaper {
    pid_t pid;
    bool done = false;
    int status = 0;
    ~Reaper() {
      if (!done) kill_and_reap(pid, false, std::chrono::seconds(10));
    }
  } reaper{s.pid};

  // The helper reads the request whole before it writes anything. One that
  // ended first (refusing its arguments) is reported by how it ended, below.
  const std::string text = encode(request);
  const bool sent = write_all(in.write.get(), text.data(), text.size());
  const int send_errno = errno;
  in.write.reset();

  std::optional<PullResult> result;
  std::optional<Error> error;
  std::string buffer;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(out.read.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Internal(errno_text("reading from " + binary, errno));
    if (n == 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    if (buffer.size() > kMaxLine && buffer.find('\n') == std::string::npos)
      throw Internal(std::string(kPullName) + " wrote a line of over " + std::to_string(kMaxLine) + " bytes");
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      PullMessage m = decode_message(buffer.substr(0, nl));
      if (m.bytes && events.bytes) events.bytes(m.bytes);
      if (m.layer_reused && events.layer_reused) events.layer_reused();
      if (m.result) result = std::move(m.result);
      if (m.error) error = std::move(m.error);
    }
  }
  reaper.done = reap_child(s.pid, std::chrono::seconds(10), &reaper.status);
  // A test's crash point reached in the helper ends the daemon there too, as
  // when pulls ran inside it.
  if (reaper.done && WIFEXITED(reaper.status) && WEXITSTATUS(reaper.status) == kCrashExitCode)
    crash_point_of_helper();
  if (error) throw *error;
  if (result) return *result;
  throw Internal(std::string(kPullName) + " " + (reaper.done ? ending(reaper.status) : "did not exit") +
                 " without saying how the pull of " + request.image + " went" +
                 (sent ? "" : " (" + errno_text("writing the request to it", send_errno) + ")"));
}

}  // namespace

std::string default_pull_binary() { return sibling_executable(kPullName); }

PullRunner helper_pull_runner(std::string binary) {
  return [binary = std::move(binary)](const PullRequest& r, const PullEvents& events) {
    return run_helper(binary, r, events);
  };
}

}  // namespace crius::image
