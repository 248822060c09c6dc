// Figures for crius-monitor: its memory per pod and the exec_sync round trip.
// N monitors are started, each with one running container (sleep), as on a
// node with N pods; the clean pages of the static binary are shared between
// them, so PSS is the per-pod cost and VmRSS the per-process view.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "oci/monitor/client.h"
#include "tests/integration/runtime/harness.h"

namespace mon = crius::oci::monitor;
namespace rt = crius::testing::rt;
using Clock = std::chrono::steady_clock;

namespace {

// A field of /proc/<pid>/smaps_rollup in kB.
long rollup_kb(pid_t pid, const std::string& key) {
  std::istringstream in(rt::read_file("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

long status_kb(pid_t pid, const std::string& key) {
  return std::atol(rt::proc_status_field(pid, key).c_str());
}

// The monitor's minor page faults so far (field 10 of /proc/<pid>/stat).
long minor_faults(pid_t pid) {
  const std::string stat = rt::read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 10 && in >> field; ++i) {
  }
  return std::atol(field.c_str());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string handler = "builtin";
  int n = 10, execs = 50, hold = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--handler" && i + 1 < argc) handler = argv[++i];
    else if (a == "-n" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--execs" && i + 1 < argc) execs = std::atoi(argv[++i]);
    else if (a == "--hold" && i + 1 < argc) hold = std::atoi(argv[++i]);
    else {
      std::cerr << "usage: bench_monitor [--handler builtin|runc|crun] [-n N] [--execs N] [--hold S]\n";
      return 2;
    }
  }
  std::string binary;
#ifdef CRIUS_RUNC_PATH
  if (handler == "runc") binary = CRIUS_RUNC_PATH;
#endif
#ifdef CRIUS_CRUN_PATH
  if (handler == "crun") binary = CRIUS_CRUN_PATH;
#endif
  if (handler != "builtin" && binary.empty()) {
    std::cerr << handler << " is not installed\n";
    return 2;
  }
  const std::string note = rt::prepare_host();
  if (!note.empty()) std::cerr << "note: " << note << "\n";

  rt::TempDir tmp("crius-bench-mon-");
  rt::Bundle bundle(tmp.path() / "bundle");
  bundle.sh("sleep 100000");
  bundle.write();
  struct Pod {
    std::optional<mon::Client> client;
    std::string id;
  };
  std::vector<Pod> pods(n);
  int rc = 0;
  try {
    for (int i = 0; i < n; ++i) {
      mon::StartOptions o;
      o.binary = CRIUS_MONITOR_PATH;
      o.dir = (tmp.path() / ("pod" + std::to_string(i))).string();
      o.pod_id = "pod" + std::to_string(i);
      o.handler.name = handler;
      o.handler.binary = binary;
      o.handler.root = (tmp.path() / "root").string();
      pods[i].client = mon::Client::start(o);
      pods[i].id = "c" + std::to_string(i);
      mon::ContainerOptions c;
      c.id = pods[i].id;
      c.bundle = bundle.dir().string();
      c.log_path = (tmp.path() / (pods[i].id + ".log")).string();
      pods[i].client->create(c);
      pods[i].client->start(c.id);
    }
    // Right after the last start, then once the monitors have been idle for
    // a while (they give pages back after 0.5 s without events).
    auto memory = [&](const char* when) {
      long rss = 0, pss = 0, priv = 0, anon = 0;
      for (auto& p : pods) {
        pid_t pid = p.client->pid();
        rss += status_kb(pid, "VmRSS");
        pss += rollup_kb(pid, "Pss");
        priv += rollup_kb(pid, "Private_Dirty");
        anon += rollup_kb(pid, "Anonymous");
      }
      std::cout << "  " << when << ":\n"
                << "    VmRSS per monitor:         " << rss / n << " kB\n"
                << "    PSS per monitor:           " << pss / n << " kB\n"
                << "    Private_Dirty per monitor: " << priv / n << " kB\n"
                << "    Anonymous per monitor:     " << anon / n << " kB\n";
    };
    std::cout << "handler=" << handler << " monitors=" << n << " (one running container each)\n";
    memory("right after the last start");
    ::usleep(1500 * 1000);
    memory("after 1.5 s idle");
    if (hold > 0) {
      // Time to look at /proc/<pid>/smaps of an idle monitor by hand.
      std::cout << "  holding " << hold << " s; monitor pids:";
      for (auto& p : pods) std::cout << " " << p.client->pid();
      std::cout << std::endl;
      ::sleep(static_cast<unsigned>(hold));
    }

    nlohmann::json proc = {{"terminal", false},
                           {"user", {{"uid", 0}, {"gid", 0}}},
                           {"args", {"true"}},
                           {"env", {"PATH=/bin"}},
                           {"cwd", "/"}};
    std::vector<double> ms, faults;
    const pid_t mpid = pods[0].client->pid();
    for (int i = 0; i < execs; ++i) {
      const long f0 = minor_faults(mpid);
      auto t0 = Clock::now();
      auto r = pods[0].client->exec_sync(pods[0].id, proc, std::chrono::seconds(10), 1 << 20);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      faults.push_back(static_cast<double>(minor_faults(mpid) - f0));
      if (r.exit_code != 0) throw std::runtime_error("exec_sync true exited " + std::to_string(r.exit_code));
    }
    std::cout << "  exec_sync(true) round trip: median " << median(ms) << " ms over " << execs << ", "
              << median(faults) << " minor faults in the monitor\n";
    // The same from an idle monitor, whose pages were given back: the cost
    // of faulting them in again.
    std::vector<double> idle_ms, idle_faults;
    for (int i = 0; i < 5 && execs > 0; ++i) {
      ::usleep(700 * 1000);
      const long f0 = minor_faults(mpid);
      auto t0 = Clock::now();
      auto r = pods[0].client->exec_sync(pods[0].id, proc, std::chrono::seconds(10), 1 << 20);
      idle_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      idle_faults.push_back(static_cast<double>(minor_faults(mpid) - f0));
      if (r.exit_code != 0) throw std::runtime_error("exec_sync true exited " + std::to_string(r.exit_code));
    }
    if (!idle_ms.empty())
      std::cout << "  exec_sync(true) after 0.7 s idle: median " << median(idle_ms) << " ms over " << idle_ms.size()
                << ", " << median(idle_faults) << " minor faults in the monitor\n";
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    rc = 1;
  }
  for (auto& p : pods) {
    if (!p.client) continue;
    const pid_t pid = p.client->pid();
    try {
      if (!p.id.empty()) p.client->remove(p.id);
      p.client->shutdown();
    } catch (const std::exception& e) {
      std::cerr << "cleanup: " << e.what() << "\n";
    }
    if (!rt::wait_gone(pid, std::chrono::seconds(5))) ::kill(pid, SIGKILL);
  }
  rt::reap_zombies();
  return rc;
}
