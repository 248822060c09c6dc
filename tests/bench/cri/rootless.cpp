#include "tests/bench/cri/rootless.h"

#include "tests/bench/cri/bench_user.h"
#include "tests/bench/cri/figure.h"
#include "tests/bench/cri/harness.h"
#include "tests/bench/cri/pods.h"
#include "tests/bench/cri/pull_files.h"
//
#include <unistd.h>

#include <cstdio>
#include <map>
#include <stdexcept>

namespace crius::bench {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// 12b: PullImage of the files image, made cold before each run.
Figure cold_pulls(const std::vector<CriDaemon*>& ds, const FilesImage& im, int pulls) {
  char title[400];
  std::snprintf(title, sizeof title,
                "12b. cold pull of pull-files' image (%zu gzip -6 layers, %.1f MiB compressed, %llu entries): "
                "PullImage after its blobs and layers are gone from disk, the registry's blobs read through first",
                im.trees.size(), static_cast<double>(im.gz_bytes) / (1 << 20),
                static_cast<unsigned long long>(im.entries));
  Figure f{title, "s", {}, {}, "rootless", "rootful"};
  std::map<const CriDaemon*, size_t> layers_before;
  for (CriDaemon* d : ds) layers_before[d] = d->layer_count();
  for (int i = 0; i < pulls; ++i)
    for (size_t k = 0; k < ds.size(); ++k) {
      CriDaemon& d = *ds[(static_cast<size_t>(i) + k) % ds.size()];
      Series& s = &d == ds[0] ? f.crius : f.containerd;
      std::fprintf(stderr, "rootless: cold pull %d/%d by %s\n", i + 1, pulls, d.name().c_str());
      if (auto e = make_cold(d, im, layers_before[&d]); !e.empty()) {
        s.fail("cold store", grpc::Status(grpc::StatusCode::INTERNAL, e));
        continue;
      }
      ::sync();
      read_through(im.registry_blobs);
      const auto t0 = Clock::now();
      const auto st = pull(d, im.ref, nullptr, 1800s);
      if (st.ok()) s.v.push_back(ms_since(t0) / 1000);
      else s.fail("PullImage", st);
    }
  // The rootful crius's store as the other figures had it.
  if (auto e = make_cold(*ds[1], im, layers_before[ds[1]]); !e.empty())
    std::fprintf(stderr, "note: %s after the cold pulls: %s\n", ds[1]->name().c_str(), e.c_str());
  return f;
}

}  // namespace

void figure_rootless(const RunDir& run, CriDaemon& rootful, const CriusOptions& o, const std::string& registry,
                     const std::string& busybox, const FilesImage& files, int pods, int pulls) {
  std::printf("12. rootless crius (started by an unprivileged user) against rootful crius, the same binary, "
              "interleaved\n");
  std::fflush(stdout);
  if (const auto missing = fixtures::rootless_tools_missing(); !missing.empty()) {
    std::printf("    SKIPPED: no %s here (Debian's uidmap and slirp4netns)\n\n", missing.c_str());
    std::fflush(stdout);
    return;
  }
  try {
    // Destroyed in reverse: the daemon (its pods removed, SIGTERM) before its user and /dev/net/tun's mode.
    TunOpen tun(run);
    BenchUser user(run);
    Network net(run, "crl" + run.tag());
    CriusOptions ro = o;
    ro.user = user.as();
    ro.registry = registry;
    std::fprintf(stderr, "rootless: starting crius as %s\n", user.name.c_str());
    auto rootless = start_crius(run, net, ro);
    std::printf("    rootless: pid %d, user %s (uid %u, subordinate IDs %s), socket %s/crius/crius.sock, root "
                "%s/.local/share/crius, bridge network in its namespace behind slirp4netns\n"
                "    rootful:  pid %d, as the other figures run it\n\n",
                rootless->pid(), user.name.c_str(), user.uid, user.subuid_range().c_str(), user.runtime_dir.c_str(),
                user.home.c_str(), rootful.pid());
    std::fflush(stdout);
    if (auto s = pull(*rootless, busybox); !s.ok())
      throw std::runtime_error("rootless: pulling " + busybox + ": " + s.error_message() + "; its log:\n" +
                               rootless->log_tail());
    const std::vector<CriDaemon*> ds{rootless.get(), &rootful};
    std::vector<Figure> figs;
    figure_pod_start(run, ds, busybox, pods,
                     "12a. pod start, rootless against rootful: RunPodSandbox + CreateContainer + StartContainer "
                     "until RUNNING (bridge CNI)",
                     figs);
    figs.push_back(cold_pulls(ds, files, pulls));
    for (auto& f : figs) {
      f.first = "rootless";
      f.second = "rootful";
      print_figure(f);
    }
  } catch (const std::exception& e) {
    std::printf("    NOT RUN: %s\n\n", e.what());
    std::fflush(stdout);
  }
}

}  // namespace crius::bench
