#include "oci/runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "conf/error.h"
#include "oci/runtime/sys.h"

namespace crius::oci::runtime {
namespace {

std::vector<char*> cstrs(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

void run_hook(const Hook& h, const std::string& phase, const std::string& state_json) {
  const std::string what = phase + " hook " + h.path;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw_errno(what + ": pipe");
  Fd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) throw_errno(what + ": pipe");
  Fd out_r(out[0]), out_w(out[1]);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  auto argv = cstrs(args);
  auto envp = cstrs(h.env);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno(what + ": fork");
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(out_w.get(), 2);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    std::string msg = errno_text("exec " + h.path, errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  // The state is far below a pipe's capacity; never block on a hook that
  // does not read it.
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  (void)!::write(in_w.get(), state_json.data(), state_json.size());
  in_w.reset();

  using clock = std::chrono::steady_clock;
  const bool bounded = h.timeout.has_value();
  const auto deadline = clock::now() + std::chrono::seconds(h.timeout.value_or(0));
  std::string output;
  bool timed_out = false;
  for (;;) {
    int ms = -1;
    if (bounded) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) {
        timed_out = true;
        break;
      }
      ms = static_cast<int>(left);
    }
    struct pollfd p {out_r.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_r.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 64 * 1024) output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  if (timed_out) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw DeadlineExceeded(what + ": timed out after " + std::to_string(*h.timeout) + "s");
  }
  // Output is closed; a hook that left a child holding it is still waited for
  // up to its deadline.
  for (;;) {
    pid_t r = ::waitpid(pid, &status, bounded ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) throw_errno(what + ": waitpid");
    if (r == 0) {
      if (clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        throw DeadlineExceeded(what + ": timed out after " + std::to_string(*h.timeout) + "s");
      }
      ::usleep(1000);
    }
  }
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  throw FailedPrecondition(what + " failed: " + how + (output.empty() ? "" : ": " + output));
}

void run_hooks(const std::vector<Hook>& hooks, const std::string& phase, const std::string& state_json) {
  for (const auto& h : hooks) run_hook(h, phase, state_json);
}

}  // namespace crius::oci::runtime
