// crius-pause: PID 1 of a pod's shared PID namespace. It holds the namespace
// open, reaps every orphan that the kernel re-parents to it, and exits on
// SIGTERM or SIGINT. Linked statically so that it runs from a root that
// holds nothing but itself.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  // Blocked, then taken with sigwait: as PID 1 of a namespace, a signal with
  // no handler would be ignored, so each is consumed explicitly.
  sigprocmask(SIG_BLOCK, &set, nullptr);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGCHLD) {
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      continue;
    }
    return 0;
  }
}
