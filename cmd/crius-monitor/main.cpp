// crius-monitor: the per-pod monitor (see oci/monitor/server.h). Started by
// the daemon through crius::oci::monitor::Client::start, never by hand:
//   crius-monitor --dir D --pod-id P [--handler-name N] [--runtime-binary B]
//                 [--runtime-root R] [--systemd-cgroup] [--cgroup-dir C]…
//                 [--ready-fd N] [--log-level L] [--detach]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "base/fd.h"
#include "base/log.h"
#include "oci/cgroups/join.h"
#include "oci/monitor/server.h"

int main(int argc, char** argv) {
  crius::oci::monitor::MonitorOptions o;
  bool detach = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "crius-monitor: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir") o.dir = value();
    else if (a == "--pod-id") o.pod_id = value();
    else if (a == "--handler-name") o.handler.name = value();
    else if (a == "--runtime-binary") o.handler.binary = value();
    else if (a == "--runtime-root") o.handler.root = value();
    else if (a == "--systemd-cgroup") o.handler.systemd_cgroup = true;
    else if (a == "--cgroup-dir") o.cgroup_dirs.push_back(value());
    else if (a == "--ready-fd") o.ready_fd = std::atoi(value().c_str());
    else if (a == "--detach") detach = true;
    else if (a == "--log-level") {
      auto l = crius::log::parse_level(value());
      if (l) crius::log::set_level(*l);
    } else {
      std::fprintf(stderr, "crius-monitor: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (o.dir.empty() || o.dir[0] != '/') {
    std::fprintf(stderr, "crius-monitor: --dir must be an absolute path\n");
    return 2;
  }
  // The daemon spawns the monitor and waits for that process: the monitor
  // goes on in a child of it, which no daemon is the parent of and so
  // outlives the daemon (a fork here, while the monitor is small and has one
  // thread, costs far less than one of the daemon). That child is born in the
  // pod's v2 cgroup (join.h); setup() joins the rest.
  crius::Fd v2;
  if (detach) {
    for (auto it = o.cgroup_dirs.begin(); it != o.cgroup_dirs.end(); ++it) {
      if (!crius::oci::cgroups::is_v2_dir(*it)) continue;
      try {
        v2 = crius::oci::cgroups::open_v2_dir(*it);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "crius-monitor: %s\n", e.what());
        return 1;
      }
      o.cgroup_dirs.erase(it);
      break;
    }
    const pid_t pid = crius::oci::cgroups::clone_into(0, v2.get());
    if (pid < 0) {
      std::perror("crius-monitor: fork");
      return 1;
    }
    if (pid > 0) ::_exit(0);
  }
  // Not passed on to containers and runtimes.
  if (o.ready_fd >= 0) ::fcntl(o.ready_fd, F_SETFD, FD_CLOEXEC);
  return crius::oci::monitor::run_monitor(o);
}
