// crius against containerd 1.6 (Debian's package), side by side in one run,
// both driven over the CRI gRPC API with the same calls, the same images
// from the same loopback registry and the same bridge CNI config:
//
//   1. cold pull of a large image (issue 5), and first byte -> usable;
//   2. pod start: RunPodSandbox + CreateContainer + StartContainer until
//      ContainerStatus says RUNNING (issue 7), with the bridge network and
//      (2b) with host network;
//   3. ExecSync round trip of `true` (issue 7), the same after a quiet spell
//      (as an exec probe runs), and through the streaming server, SPDY and
//      WebSocket, as `crictl exec` runs it (issue 14);
//   4. memory per pod with P pods running: crius-monitor against
//      containerd-shim-runc-v2, and each daemon's own;
//   5. RunPodSandbox alone, and StopPodSandbox + RemovePodSandbox, with the
//      bridge network (pod-net) and with host network (pod-host) (issue 6);
//   6. crius alone: pod start (as 2.) of a pod with a user namespace of its
//      own (hostUsers: false) against a plain one, interleaved (issue 16;
//      containerd 1.6 has no user namespaces for pods);
//  11. pull-files (only when asked for): a cold pull of an image made of
//      this machine's files, beside tar -xzf and gzip -dc of its blobs
//      (issue 19; pull_files.cpp);
//  12. rootless (only when asked for): crius started rootless by a user made
//      for the run against the rootful crius: pod start as 2., and a cold
//      pull of pull-files' image (rootless.cpp).
//
// Iterations are interleaved (who goes first alternates), so machine noise
// hits both alike. Not a test: it prints figures. Run it as root:
//
//   bench_cri [-n N] [--large-mb MB] [--layers L] [--pods P]
//             [--only pull,pod,exec,memory,pod-net,pod-host,userns,stats,pull-files,rootless]
//             [--files-trees A,B,C] [--files-cache warm,dropped]
//             [--print-config] [--crius PATH]
#include "tests/bench/cri/harness.h"
#include "tests/support/spdy_client.h"
#include "tests/support/ws_client.h"
//
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/bench/cri/figure.h"
#include "tests/bench/cri/pods.h"
#include "tests/bench/cri/proxy.h"
#include "tests/bench/cri/pull_files.h"
#include "tests/bench/cri/rootless.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace fs = std::filesystem;
namespace fx = crius::fixtures;
using namespace crius::bench;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

void usage() {
  std::cerr << "usage: bench_cri [-n N] [--large-mb MB] [--layers L] [--pods P] [--only LIST] [--print-config]\n"
               "                 [--crius PATH]\n"
               "  -n N            interleaved iterations per figure (default 10)\n"
               "  --large-mb MB   size of the large image's random data (default 256)\n"
               "  --layers L      layers it is split into (default 4)\n"
               "  --pods P        pods running for the memory figure (default 10)\n"
               "  --only LIST     figures to run, comma-separated: pull,pod,exec,memory,pod-net,pod-host,userns,\n"
               "                  stats (100 pods: ListContainerStats, idle CPU, event subscribers)\n"
               "                  pull-files (cold pull of an image of this machine's files, with tar -xzf and\n"
               "                  gzip -dc floors; minutes: not in the default set)\n"
               "                  rootless (crius run by a user made for the run against rootful crius: pod\n"
               "                  start over -n pods, and pull-files' cold pull min(n, 3) times each; not in\n"
               "                  the default set)\n"
               "                  (default all but pull-files and rootless)\n"
               "  --files-trees A,B,C  trees of pull-files' layers, one layer each\n"
               "                  (default /usr/include,/usr/bin,/usr/lib/gcc)\n"
               "  --files-cache LIST  page cache before each pull-files run: warm,dropped (default both)\n"
               "                  pull-files runs -n iterations when -n is given, else 3\n"
               "  --print-config  print the containerd config.toml used\n"
               "  --crius PATH    the crius binary (default: the one built with this bench)\n";
}

// ---- images ----

struct Images {
  std::string pause, busybox, large;  // references (large is behind the proxy)
  std::vector<std::string> large_blobs, large_diff_ids;
  uint64_t large_bytes = 0;
};

Images push_images(fx::Registry& reg, const std::string& proxy_host, int large_mb, int layers) {
  Images im;
  // containerd needs the pause image; crius's own static pause is its entrypoint.
  const BaseImages base = push_base_images(reg, CRIUS_PAUSE_BINARY);
  im.pause = base.pause;
  im.busybox = base.busybox;
  {
    // Random bytes: gzip cannot shrink them, so the wire carries all of it.
    std::vector<fx::Layer> ls{fx::busybox_layer(fx::Compression::gzip)};
    std::mt19937_64 rng(std::random_device{}());
    const size_t per = static_cast<size_t>(large_mb) * (1u << 20) / static_cast<size_t>(layers);
    for (int i = 0; i < layers; ++i) {
      fx::TarEntry dir, e;
      dir.path = "data";
      dir.type = 'd';
      dir.mode = 0755;
      e.path = "data/blob-" + std::to_string(i);
      e.data.resize(per);
      for (size_t off = 0; off + 8 <= per; off += 8) {
        uint64_t x = rng();
        std::memcpy(e.data.data() + off, &x, 8);
      }
      ls.push_back(fx::make_layer({dir, e}, fx::Compression::gzip));
    }
    fx::ImageConfig cfg;
    cfg.cmd = {"sh"};
    auto pushed = fx::push_image(reg, "bench/large", "1", ls, cfg);
    for (const auto& l : ls) {
      im.large_blobs.push_back(l.digest);
      im.large_diff_ids.push_back(l.diff_id);
    }
    im.large_bytes = pushed.blob_bytes;
    im.large = proxy_host + "/bench/large:1";
  }
  return im;
}

// ---- figures ----

void figure_pull(std::vector<CriDaemon*> ds, FirstByteProxy& proxy, const Images& im, int n,
                 std::vector<Figure>& out) {
  Figure total{"1. image pull, cold: " + std::to_string(im.large_bytes >> 20) + " MiB (" +
                   std::to_string(im.large_blobs.size() - 1) +
                   " gzip layers of random bytes + busybox), PullImage call; removed and its content gone between pulls",
               "ms", {}, {}};
  Figure first{"   of which first byte of a layer -> PullImage returned (image usable)", "ms", {}, {}};
  Figure before{"   of which PullImage sent -> first byte of a layer", "ms", {}, {}};
  std::vector<std::string> all = im.large_blobs;
  all.insert(all.end(), im.large_diff_ids.begin(), im.large_diff_ids.end());
  // Only the large layers (not the busybox one, which the other images share).
  std::vector<std::string> watched(im.large_blobs.begin() + 1, im.large_blobs.end());
  std::vector<std::string> gone(all);
  gone.erase(std::remove(gone.begin(), gone.end(), im.large_blobs[0]), gone.end());
  gone.erase(std::remove(gone.begin(), gone.end(), im.large_diff_ids[0]), gone.end());
  // Layers on disk before any pull of the large image: a cold store has no more.
  std::map<std::string, size_t> layers_before;
  for (CriDaemon* d : ds) layers_before[d->name()] = d->layer_count();
  for (int i = 0; i < n; ++i) {
    for (size_t k = 0; k < ds.size(); ++k) {
      CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
      Series& st = d.name() == "crius" ? total.crius : total.containerd;
      Series& sf = d.name() == "crius" ? first.crius : first.containerd;
      Series& sb = d.name() == "crius" ? before.crius : before.containerd;
      // Cold: removed from the store, and its content gone from disk.
      if (image_present(d, im.large)) {
        auto s = remove_image(d, im.large);
        if (!s.ok()) {
          st.fail("RemoveImage", s);
          continue;
        }
      }
      bool cold = d.content_gone(gone, 60s);
      for (auto until = Clock::now() + 60s; cold && d.layer_count() > layers_before[d.name()];) {
        if (Clock::now() > until) cold = false;
        std::this_thread::sleep_for(100ms);
      }
      if (!cold) {
        st.fail("cold store", grpc::Status(grpc::StatusCode::INTERNAL, "the large image's layers are still on disk"));
        continue;
      }
      ::sync();
      proxy.watch(watched);
      auto t = Clock::now();
      auto s = pull(d, im.large);
      const auto done = Clock::now();
      if (!s.ok()) {
        st.fail("PullImage", s);
        continue;
      }
      st.v.push_back(std::chrono::duration<double, std::milli>(done - t).count());
      if (auto fb = proxy.first_byte()) {
        sf.v.push_back(std::chrono::duration<double, std::milli>(done - *fb).count());
        sb.v.push_back(std::chrono::duration<double, std::milli>(*fb - t).count());
      }
      remove_image(d, im.large);
    }
  }
  out.push_back(std::move(total));
  out.push_back(std::move(first));
  out.push_back(std::move(before));
}

// Figure 6: crius alone, a pod with a user namespace against a plain one.
void figure_userns(const RunDir& run, CriDaemon& crius, const Images& im, int n, std::vector<Figure>& out) {
  Figure total{"6. pod start with a user namespace (hostUsers: false) against without, crius only: RunPodSandbox + "
               "CreateContainer + StartContainer until RUNNING",
               "ms", {}, {}, "userns", "plain"};
  Figure sandbox{"   of which RunPodSandbox alone", "ms", {}, {}, "userns", "plain"};
  // The pod's root is an unprivileged user of the node: the directories down
  // to crius's root (which crius opens itself) must be searchable by it.
  for (fs::path d = fs::path(crius.dir()); d.string().size() >= run.path().size(); d = d.parent_path())
    fs::permissions(d, fs::perms::others_exec, fs::perm_options::add);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 2; ++k) {
      const bool userns = (i + k) % 2 == 0;
      Series& st = userns ? total.crius : total.containerd;
      Series& ss = userns ? sandbox.crius : sandbox.containerd;
      Pod p;
      std::string step;
      double ms_sb = 0, ms_all = 0;
      auto s = start_pod(run, crius, (userns ? "userns-" : "plain-") + std::to_string(i), im.busybox, p, step, &ms_sb,
                         &ms_all, userns ? 1000000 + static_cast<uint32_t>(i % 16) * 65536 : 0);
      if (!s.ok()) {
        st.fail(step, s);
        continue;
      }
      ss.v.push_back(ms_sb);
      st.v.push_back(ms_all);
      if (auto r = teardown(crius, p); !r.ok()) st.fail("teardown", r);
    }
  }
  out.push_back(std::move(total));
  out.push_back(std::move(sandbox));
}

// One `crictl exec <id> true`: the Exec RPC, the upgrade, the streams, the
// status. "" on success, else what failed.
std::string stream_exec_true(CriDaemon& d, const std::string& container, bool websocket) {
  v1::ExecRequest req;
  req.set_container_id(container);
  req.add_cmd("true");
  req.set_stdout(true);
  req.set_stderr(true);
  v1::ExecResponse res;
  auto st = d.runtime().Exec(deadline(30s).get(), req, &res);
  if (!st.ok()) return "Exec: " + st.error_message();
  const std::string& url = res.url();
  if (websocket) {
    auto ws = crius::test::WsClient::connect(url, {"v4.channel.k8s.io"});
    if (!ws) return "WebSocket upgrade refused";
    for (int i = 0; i < 8; ++i) {
      auto m = ws->read(10s);
      if (!m) return "no status";
      if (!m->empty() && (*m)[0] == 3) return m->find("Success") != std::string::npos ? "" : m->substr(1);
    }
    return "no status";
  }
  const auto start = url.find("://") + 3, slash = url.find('/', start);
  const std::string hp = url.substr(start, slash - start);
  const auto colon = hp.rfind(':');
  auto c = crius::testing::SpdyClient::connect(hp.substr(0, colon), static_cast<uint16_t>(std::stoi(hp.substr(colon + 1))),
                                               url.substr(slash), {"v4.channel.k8s.io"});
  if (c->status() != 101) return "SPDY upgrade answered " + std::to_string(c->status());
  const int error = c->open_stream({{"streamtype", "error"}});
  const int out = c->open_stream({{"streamtype", "stdout"}});
  const int err = c->open_stream({{"streamtype", "stderr"}});
  (void)out;
  (void)err;
  const std::string status = c->read_all(error, 10s);
  return status.find("Success") != std::string::npos ? "" : "status: " + status;
}

void figure_exec(const RunDir& run, std::vector<CriDaemon*> ds, const Images& im, int n, std::vector<Figure>& out) {
  Figure f{"3. ExecSync round trip of `true` (one running container, 3 warm-up calls first)", "ms", {}, {}};
  std::map<std::string, Pod> pods;
  std::set<std::string> ready;
  for (CriDaemon* d : ds) {
    Series& s = d->name() == "crius" ? f.crius : f.containerd;
    std::string step;
    auto st = start_pod(run, *d, "exec", im.busybox, pods[d->name()], step);
    if (!st.ok()) {
      s.fail(step, st);
      continue;
    }
    ready.insert(d->name());
  }
  auto exec = [&](CriDaemon& d) {
    v1::ExecSyncRequest req;
    req.set_container_id(pods[d.name()].container);
    req.add_cmd("true");
    req.set_timeout(10);
    v1::ExecSyncResponse res;
    auto s = d.runtime().ExecSync(deadline(30s).get(), req, &res);
    if (s.ok() && res.exit_code() != 0)
      s = grpc::Status(grpc::StatusCode::INTERNAL, "exit code " + std::to_string(res.exit_code()) + ": " + res.stderr());
    return s;
  };
  for (CriDaemon* d : ds)
    for (int w = 0; w < 3 && ready.count(d->name()); ++w) {
      auto s = exec(*d);
      if (!s.ok()) {
        (d->name() == "crius" ? f.crius : f.containerd).fail("ExecSync", s);
        ready.erase(d->name());
      }
    }
  for (int i = 0; i < n; ++i)
    for (size_t k = 0; k < ds.size(); ++k) {
      CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
      if (!ready.count(d.name())) continue;
      Series& s = d.name() == "crius" ? f.crius : f.containerd;
      auto t = Clock::now();
      auto st = exec(d);
      if (st.ok()) s.v.push_back(ms_since(t));
      else s.fail("ExecSync", st);
    }
  out.push_back(std::move(f));
  // As a kubelet's exec probe runs it: after a quiet spell, when joining the
  // container's cgroups may find the kernel's cgroup lock cold (join.h). Each
  // call waits on its own, so that one daemon's call does not warm the
  // kernel for the other's.
  Figure idle{"   ExecSync of `true` after 500 ms with nothing running (as an exec probe)", "ms", {}, {}};
  for (int i = 0; i < n; ++i)
    for (size_t k = 0; k < ds.size(); ++k) {
      CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
      if (!ready.count(d.name())) continue;
      Series& s = d.name() == "crius" ? idle.crius : idle.containerd;
      std::this_thread::sleep_for(500ms);
      auto t = Clock::now();
      auto st = exec(d);
      if (st.ok()) s.v.push_back(ms_since(t));
      else s.fail("ExecSync", st);
    }
  out.push_back(std::move(idle));
  // The same `true` through the Exec RPC and the streaming server, as
  // `crictl exec` runs it: SPDY (crictl's default) and WebSocket.
  for (bool ws : {false, true}) {
    Figure g{std::string("   Exec of `true` through the streaming server, ") +
                 (ws ? "WebSocket (v4.channel.k8s.io)" : "SPDY/3.1 (v4.channel.k8s.io)"),
             "ms", {}, {}};
    for (int i = 0; i < n + 3; ++i)
      for (size_t k = 0; k < ds.size(); ++k) {
        CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
        if (!ready.count(d.name())) continue;
        Series& s = d.name() == "crius" ? g.crius : g.containerd;
        auto t = Clock::now();
        std::string error = stream_exec_true(d, pods[d.name()].container, ws);
        if (i < 3) continue;  // warm-up
        if (error.empty()) s.v.push_back(ms_since(t));
        else s.fail("Exec", grpc::Status(grpc::StatusCode::INTERNAL, error));
      }
    out.push_back(std::move(g));
  }
  for (CriDaemon* d : ds)
    if (pods[d->name()].id.size()) teardown(*d, pods[d->name()]);
}

// The pod sandbox alone (no container): RunPodSandbox, then StopPodSandbox +
// RemovePodSandbox, with the bridge network or with host network (no CNI).
void figure_sandbox(const RunDir& run, std::vector<CriDaemon*> ds, bool host_network, int n,
                    std::vector<Figure>& out) {
  const std::string what = host_network ? "host network" : "bridge CNI";
  Figure up{"5. RunPodSandbox alone, " + what, "ms", {}, {}};
  Figure down{"   StopPodSandbox + RemovePodSandbox, " + what, "ms", {}, {}};
  for (int i = 0; i < n; ++i) {
    for (size_t k = 0; k < ds.size(); ++k) {
      CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
      Series& su = d.name() == "crius" ? up.crius : up.containerd;
      Series& sd = d.name() == "crius" ? down.crius : down.containerd;
      Pod p;
      p.config = pod_config(run, d, (host_network ? "host-" : "net-") + std::to_string(i));
      if (host_network) use_host_network(p.config);
      auto t = Clock::now();
      auto s = run_pod(d, p);
      if (!s.ok()) {
        su.fail("RunPodSandbox", s);
        teardown(d, p);
        continue;
      }
      su.v.push_back(ms_since(t));
      note_pod(run, d, p);
      t = Clock::now();
      auto r = teardown(d, p);
      if (r.ok()) sd.v.push_back(ms_since(t));
      else sd.fail("StopPodSandbox + RemovePodSandbox", r);
    }
  }
  out.push_back(std::move(up));
  out.push_back(std::move(down));
}

void figure_memory(const RunDir& run, std::vector<CriDaemon*> ds, const Images& im, int pods) {
  std::printf("4. memory with %d pods of one `sleep` container each, KiB (VmRSS / Pss from smaps_rollup)\n", pods);
  std::printf("  %-11s %8s %22s %22s %22s\n", "runtime", "pods up", "per-pod process, each",
              "per-pod sum / pods", "daemon");
  for (CriDaemon* d : ds) {
    std::vector<Pod> running;
    std::string failure;
    for (int i = 0; i < pods; ++i) {
      Pod p;
      std::string step;
      auto s = start_pod(run, *d, "mem-" + std::to_string(i), im.busybox, p, step);
      if (!s.ok()) {
        failure = s.error_code() == grpc::StatusCode::UNIMPLEMENTED ? "unimplemented: " + step + ": " + s.error_message()
                                                                      : step + ": " + s.error_message();
        break;
      }
      running.push_back(p);
    }
    std::this_thread::sleep_for(1s);  // let lazily touched pages settle
    const auto procs = d->pod_processes();
    Memory sum;
    for (pid_t pid : procs) {
      auto m = memory_of(pid);
      sum.rss_kb += m.rss_kb;
      sum.pss_kb += m.pss_kb;
    }
    const auto dm = memory_of(d->pid());
    char each[64] = "-", per[64] = "-", dae[64];
    if (!procs.empty())
      std::snprintf(each, sizeof each, "%ld / %ld (x%zu)", sum.rss_kb / static_cast<long>(procs.size()),
                    sum.pss_kb / static_cast<long>(procs.size()), procs.size());
    if (!running.empty())
      std::snprintf(per, sizeof per, "%ld / %ld", sum.rss_kb / static_cast<long>(running.size()),
                    sum.pss_kb / static_cast<long>(running.size()));
    std::snprintf(dae, sizeof dae, "%ld / %ld", dm.rss_kb, dm.pss_kb);
    std::printf("  %-11s %8zu %22s %22s %22s\n", d->name().c_str(), running.size(), each, per, dae);
    if (d->name() == "containerd" && !procs.empty()) {
      // containerd also runs a pause process per pod (crius needs none by default).
      Memory pause;
      size_t count = 0;
      for (pid_t shim : procs)
        for (pid_t c : children_of(shim)) {
          std::ifstream comm("/proc/" + std::to_string(c) + "/comm");
          std::string name;
          std::getline(comm, name);
          if (name != "pause") continue;
          auto m = memory_of(c);
          pause.rss_kb += m.rss_kb;
          pause.pss_kb += m.pss_kb;
          ++count;
        }
      if (count)
        std::printf("  %-11s %8s %22s   (containerd's pause processes, x%zu)\n", "", "",
                    (std::to_string(pause.rss_kb / static_cast<long>(count)) + " / " +
                     std::to_string(pause.pss_kb / static_cast<long>(count)))
                        .c_str(),
                    count);
    }
    if (!failure.empty()) std::printf("  %-11s %s\n", "", failure.c_str());
    for (const auto& p : running) teardown(*d, p);
  }
  std::printf("\n");
  std::fflush(stdout);
}

// CPU time (user + system) of a process so far, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream f(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && f >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// With `pods` pods of one running container each: ListContainerStats time,
// CPU used in 60 s of idling (the daemon, and its per-pod processes), and the
// memory one GetContainerEvents subscriber costs (100 opened, RSS / 100).
void figure_stats(const RunDir& run, std::vector<CriDaemon*> ds, const Images& im, int pods, int n,
                  std::vector<Figure>& out) {
  Figure f;
  f.title = "8. ListContainerStats with " + std::to_string(pods) + " running containers";
  f.unit = "ms";
  std::vector<std::string> idle, events;
  for (CriDaemon* d : ds) {
    Series& series = d->name() == "crius" ? f.crius : f.containerd;
    std::vector<Pod> running;
    for (int i = 0; i < pods; ++i) {
      Pod p;
      std::string step;
      auto st = start_pod(run, *d, "stats-" + std::to_string(i), im.busybox, p, step);
      if (!st.ok()) {
        series.fail(step, st);
        break;
      }
      running.push_back(p);
    }
    for (int i = 0; i <= n; ++i) {
      v1::ListContainerStatsRequest req;
      v1::ListContainerStatsResponse res;
      const auto t0 = Clock::now();
      auto st = d->runtime().ListContainerStats(deadline(60s).get(), req, &res);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!st.ok()) series.fail("ListContainerStats", st);
      else if (i > 0) series.v.push_back(ms);  // the first call warms caches up
    }
    // Idle: nothing asked of either runtime for 60 s.
    const auto procs = d->pod_processes();
    double daemon0 = cpu_seconds(d->pid()), procs0 = 0;
    for (pid_t p : procs) procs0 += cpu_seconds(p);
    std::this_thread::sleep_for(60s);
    double procs1 = 0;
    for (pid_t p : procs) procs1 += cpu_seconds(p);
    char line[200];
    std::snprintf(line, sizeof line, "  %-11s daemon %.3f s, its %zu per-pod processes %.3f s (of %zu pods up)",
                  d->name().c_str(), cpu_seconds(d->pid()) - daemon0, procs.size(), procs1 - procs0, running.size());
    idle.push_back(line);
    // Event subscribers, held open and never read.
    const long before = memory_of(d->pid()).rss_kb;
    std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
    std::vector<std::unique_ptr<grpc::ClientReader<v1::ContainerEventResponse>>> readers;
    for (int i = 0; i < 100; ++i) {
      ctxs.push_back(std::make_unique<grpc::ClientContext>());
      readers.push_back(d->runtime().GetContainerEvents(ctxs.back().get(), v1::GetEventsRequest()));
    }
    std::this_thread::sleep_for(1s);
    const long after = memory_of(d->pid()).rss_kb;
    std::snprintf(line, sizeof line, "  %-11s %.1f KiB per subscriber (RSS %ld -> %ld KiB with 100)", d->name().c_str(),
                  static_cast<double>(after - before) / 100.0, before, after);
    events.push_back(line);
    for (auto& c : ctxs) c->TryCancel();
    for (auto& r : readers) r->Finish();
    for (const auto& p : running) teardown(*d, p);
  }
  out.push_back(f);
  std::printf("9. CPU used over 60 s idle with %d pods of one running container\n", pods);
  for (const auto& l : idle) std::printf("%s\n", l.c_str());
  std::printf("\n10. memory of GetContainerEvents subscribers that read nothing\n");
  for (const auto& l : events) std::printf("%s\n", l.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 10, large_mb = 256, layers = 4, pods = 10;
  bool print_config = false;
  std::string crius_binary = CRIUS_BINARY;
  std::set<std::string> only{"pull", "pod", "exec", "memory", "pod-net", "pod-host", "userns", "stats"};
  bool n_given = false;
  std::vector<std::string> files_trees;
  std::set<std::string> files_cache{"warm", "dropped"};
  auto list = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string w; std::getline(ss, w, ',');)
      if (!w.empty()) out.push_back(w);
    return out;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "-n") n = std::atoi(next().c_str()), n_given = true;
    else if (a == "--files-trees") files_trees = list(next());
    else if (a == "--files-cache") {
      const auto l = list(next());
      files_cache = {l.begin(), l.end()};
      for (const auto& w : files_cache)
        if (w != "warm" && w != "dropped") return usage(), 2;
    } else if (a == "--large-mb") large_mb = std::atoi(next().c_str());
    else if (a == "--layers") layers = std::atoi(next().c_str());
    else if (a == "--pods") pods = std::atoi(next().c_str());
    else if (a == "--print-config") print_config = true;
    else if (a == "--crius") crius_binary = next();
    else if (a == "--only") {
      only.clear();
      std::stringstream ss(next());
      for (std::string w; std::getline(ss, w, ',');) only.insert(w);
    } else {
      usage();
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (n < 1 || n > 1000 || large_mb < 1 || layers < 1 || layers > 64 || pods < 1 || pods > 200) return usage(), 2;
  if (::geteuid() != 0) {
    std::cerr << "bench_cri needs root\n";
    return 1;
  }
  try {
    cleanup_leftovers();
    RunDir run;
    std::fprintf(stderr, "run dir %s\n", run.path().c_str());
    fx::Registry reg;
    run.note("dirs.list", fs::path(reg.storage()).parent_path());
    FirstByteProxy proxy(reg.host());
    std::fprintf(stderr, "building and pushing the images (large: %d MiB)...\n", large_mb);
    const Images im = push_images(reg, proxy.host(), only.count("pull") ? large_mb : 1, layers);
    std::unique_ptr<FilesImage> files;
    if (only.count("pull-files") || only.count("rootless"))
      files = std::make_unique<FilesImage>(
          push_files_image(run, reg, files_trees.empty() ? default_files_trees() : files_trees));

    Network net_crius(run, "cbr" + run.tag()), net_containerd(run, "cbd" + run.tag());
    ContainerdOptions co;
    co.sandbox_image = im.pause;
    co.registries = {reg.host(), proxy.host()};
    auto containerd = start_containerd(run, net_containerd, co);
    CriusOptions cr;
    cr.binary = crius_binary;
    auto crius = start_crius(run, net_crius, cr);
    std::vector<CriDaemon*> ds{crius.get(), containerd.get()};
    for (CriDaemon* d : ds) {
      v1::VersionRequest req;
      v1::VersionResponse res;
      d->runtime().Version(deadline(10s).get(), req, &res);
      std::printf("%-11s %s %s (pid %d)\n", d->name().c_str(), res.runtime_name().c_str(),
                  res.runtime_version().c_str(), d->pid());
    }
    std::printf("iterations %d, interleaved; registry %s (pulls of the large image through a relay at %s)\n\n", n,
                reg.host().c_str(), proxy.host().c_str());
    if (print_config) std::printf("containerd config.toml:\n%s\n", containerd_config(*containerd).c_str());
    std::fflush(stdout);
    // Both have the small images before any timing; containerd also its pause image.
    for (CriDaemon* d : ds) {
      auto s = pull(*d, im.busybox);
      if (!s.ok()) throw std::runtime_error(d->name() + ": pulling " + im.busybox + ": " + s.error_message());
    }
    if (auto s = pull(*containerd, im.pause); !s.ok())
      throw std::runtime_error("containerd: pulling " + im.pause + ": " + s.error_message());

    std::vector<Figure> figs;
    if (only.count("pull")) {
      figure_pull(ds, proxy, im, n, figs);
      for (const auto& f : figs) print_figure(f);
      figs.clear();
    }
    if (only.count("pull-files")) figure_pull_files(run, ds, *files, n_given ? n : 3, files_cache);
    if (only.count("pod")) {
      figure_pod_start(run, ds, im.busybox, n,
                       "2. pod start: RunPodSandbox + CreateContainer + StartContainer until RUNNING (bridge CNI)", figs);
      figure_pod_start(run, ds, im.busybox, n,
                       "2b. pod start: RunPodSandbox + CreateContainer + StartContainer until RUNNING (host network)",
                       figs, true);
      for (const auto& f : figs) print_figure(f);
      figs.clear();
    }
    if (only.count("exec")) {
      figure_exec(run, ds, im, n, figs);
      for (const auto& f : figs) print_figure(f);
      figs.clear();
    }
    if (only.count("memory")) figure_memory(run, ds, im, pods);
    for (bool host : {false, true}) {
      if (!only.count(host ? "pod-host" : "pod-net")) continue;
      figure_sandbox(run, ds, host, n, figs);
      for (const auto& f : figs) print_figure(f);
      figs.clear();
    }
    if (only.count("stats")) {
      figure_stats(run, ds, im, 100, n, figs);
      for (const auto& f : figs) print_figure(f);
      figs.clear();
    }
    if (only.count("userns")) {
      figure_userns(run, *crius, im, n, figs);
      for (const auto& f : figs) print_figure(f);
      figs.clear();
    }
    if (only.count("rootless")) figure_rootless(run, *crius, cr, reg.host(), im.busybox, *files, n, std::min(n, 3));
    // Daemons stop (pods removed over the CRI) before the run dir is cleaned up.
    crius.reset();
    containerd.reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cri: %s\n", e.what());
    return 1;
  }
  return 0;
}
