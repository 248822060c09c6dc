// crius-pull: one image pull for the daemon (image/pull_protocol.h), started
// by it for each PullImage, never by hand:
//   crius-pull --parent PID [--log-level L] [--log-format logfmt|json]
// The request comes on stdin; what happens goes to stdout, one JSON object
// per line; log lines go to stderr, which is the daemon's log.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "image/pull/puller.h"

namespace {

// Lines to the daemon, from the layer threads; bytes are added up and sent
// a mebibyte at a time, so that a pull costs the daemon a few hundred reads.
class Reporter {
 public:
  void bytes(uint64_t n) {
    std::lock_guard lock(mu_);
    pending_ += n;
    if (pending_ >= kBatch) flush_locked();
  }
  void line(const std::string& text) {
    std::lock_guard lock(mu_);
    flush_locked();
    send(text);
  }

 private:
  static constexpr uint64_t kBatch = 1 << 20;
  void flush_locked() {
    if (pending_) send(crius::image::bytes_line(pending_));
    pending_ = 0;
  }
  // A daemon that stopped listening has nothing left to hear: the pull ends
  // (the daemon removes its scratch dir, or the next start does).
  static void send(const std::string& text) {
    if (!crius::write_all(STDOUT_FILENO, text.data(), text.size())) ::_exit(1);
  }

  std::mutex mu_;
  uint64_t pending_ = 0;
};

// The request, which the daemon writes whole and then closes.
std::string read_stdin() {
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw crius::Internal(crius::errno_text("reading the pull request", errno));
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  pid_t parent = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "crius-pull: %s needs a value\n", a.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (a == "--parent") {
      parent = static_cast<pid_t>(std::atoi(v.c_str()));
    } else if (a == "--log-level") {
      if (auto l = crius::log::parse_level(v)) crius::log::set_level(*l);
    } else if (a == "--log-format") {
      if (auto f = crius::log::parse_format(v)) crius::log::set_format(*f);
    } else {
      std::fprintf(stderr, "crius-pull: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  // A pull dies with the daemon that asked for it; its half-made files are
  // the next daemon's to remove at start. The check after prctl closes the
  // window in which the daemon died before it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // A connection a registry cut must be an error curl retries, not the end
  // of the pull (curl runs with CURLOPT_NOSIGNAL); so must a closed stdout.
  ::signal(SIGPIPE, SIG_IGN);
  if (parent <= 0 || ::getppid() != parent) {
    std::fprintf(stderr, "crius-pull: started by the crius daemon only (--parent is not our parent)\n");
    return 2;
  }

  Reporter reporter;
  try {
    const crius::image::PullRequest request = crius::image::decode_request(read_stdin());
    crius::image::PullEvents events;
    events.bytes = [&](uint64_t n) { reporter.bytes(n); };
    events.layer_reused = [&] { reporter.line(crius::image::layer_reused_line()); };
    crius::image::Puller puller(request.images_dir, request.scratch_dir, request.certs_dir, events);
    const auto result = puller.pull(request.image, request.creds, request.config, request.context);
    reporter.line(crius::image::result_line(result));
    return 0;
  } catch (const crius::Error& e) {
    reporter.line(crius::image::error_line(e));
  } catch (const std::exception& e) {
    reporter.line(crius::image::error_line(crius::Internal(e.what())));
  }
  return 1;
}
