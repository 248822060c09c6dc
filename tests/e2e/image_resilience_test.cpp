// The ImageService over gRPC, the parts beyond a plain pull: auth failures'
// status codes, pinned images, the pod a pull is for, diff_id checks, a
// transfer cut mid-layer and resumed, leftovers of a crash removed at start,
// the progress lines of a slow pull, a RemoveImage in the middle of a pull
// that shares its layers, and the pull's process killed in its middle.
#include "tests/e2e/image_helpers.h"
//
#include <gtest/gtest.h>

#include <signal.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <random>
#include <regex>
#include <sstream>

#include "base/file.h"

#include "tests/fixtures/registry/http_stub.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using fixtures::HttpStub;
using fixtures::Registry;
using namespace image_e2e;

v1::PodSandboxConfig pod(const std::string& ns, const std::string& name, const std::string& uid) {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_namespace_(ns);
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_uid(uid);
  return c;
}

// Log lines whose message is `msg`.
std::vector<std::string> log_lines(const Daemon& d, const std::string& msg) {
  std::vector<std::string> out;
  std::istringstream in(d.log());
  for (std::string line; std::getline(in, line);)
    if (line.find("msg=\"" + msg + "\"") != std::string::npos) out.push_back(line);
  return out;
}

// Bytes that do not compress, the same on every run.
std::string noise(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(ImageAuth, ForbiddenIsPermissionDeniedWithTheRegistrysError) {
  Registry reg;
  fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  HttpStub stub([&](const HttpStub::Request& req) -> HttpStub::Reply {
    if (req.target.find("/manifests/") != std::string::npos)
      return {403, {{"Content-Type", "application/json"}},
              R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})"};
    return HttpStub::forward("http://" + reg.host(), req);
  });
  Daemon d;
  auto r = pull(d, stub.host() + "/test/busybox:v1");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("DENIED: requested access to the resource is denied"), std::string::npos)
      << r.status.error_message();
}

TEST(ImagePinned, ConfiguredReferencesArePinnedOthersNot) {
  Registry reg;
  auto latest = fixtures::push_image(reg, "test/busybox", "latest", {busybox()});
  fixtures::ImageConfig other;
  other.env = {"OTHER=1"};
  auto loose = fixtures::push_image(reg, "test/busybox", "loose", {busybox()}, other);
  fixtures::ImageConfig third;
  third.env = {"THIRD=1"};
  auto by_digest = fixtures::push_image(reg, "test/digested", "v1", {busybox()}, third);
  // No tag means :latest, as for any reference; a digest pins that manifest;
  // an entry that is no reference is ignored.
  Daemon d({.config_yaml = "image:\n  pinned_images:\n    - \"" + reg.host() + "/test/busybox\"\n    - \"" + reg.host() +
                           "/test/digested@" + by_digest.manifest_digest + "\"\n    - \"Not A//Reference\"\n"});
  for (const char* tag : {"latest", "loose"}) ASSERT_TRUE(pull(d, reg.host() + "/test/busybox:" + tag).status.ok());
  ASSERT_TRUE(pull(d, reg.host() + "/test/digested:v1").status.ok());

  EXPECT_TRUE(status(d, latest.config_digest)->pinned());
  EXPECT_FALSE(status(d, loose.config_digest)->pinned());
  EXPECT_TRUE(status(d, by_digest.config_digest)->pinned()) << "its repo digest is the pinned one";
  int pinned = 0;
  for (const auto& img : list(d)) pinned += img.pinned();
  EXPECT_EQ(pinned, 2);
  EXPECT_TRUE(list(d, reg.host() + "/test/busybox:latest").at(0).pinned());
  EXPECT_EQ(log_lines(d, "ignoring image.pinned_images entry").size(), 1u) << "logged once, however often it is read";
}

TEST(ImagePullForPod, PodIsNamedInTheLogLines) {
  Registry reg;
  fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  Daemon d;
  const auto p = pod("team-a", "web-0", "uid-1234");
  auto ok = pull(d, reg.host() + "/test/busybox:v1", nullptr, &p);
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  auto started = log_lines(d, "pulling image");
  ASSERT_FALSE(started.empty()) << d.log();
  EXPECT_NE(started[0].find("pod=team-a/web-0"), std::string::npos) << started[0];
  EXPECT_NE(started[0].find("pod_uid=uid-1234"), std::string::npos) << started[0];
  auto done = log_lines(d, "pulled image");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].find("pod=team-a/web-0"), std::string::npos) << done[0];

  auto missing = pull(d, reg.host() + "/test/busybox:nope", nullptr, &p);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND);
  auto failed = log_lines(d, "pulling image failed");
  ASSERT_EQ(failed.size(), 1u) << d.log();
  EXPECT_NE(failed[0].find("pod=team-a/web-0"), std::string::npos) << failed[0];
  EXPECT_NE(failed[0].find("MANIFEST_UNKNOWN"), std::string::npos) << failed[0];
}

TEST(ImageDiffId, ConfigThatLiesAboutALayerFailsAndStoresNothing) {
  Registry reg;
  auto good = fixtures::make_layer({{.path = "etc/motd", .type = 'f', .data = "hello", .mode = 0644}}, Compression::zstd);
  fixtures::Layer lying = busybox();
  lying.diff_id = fixtures::sha256_of("not this layer");
  fixtures::push_image(reg, "test/liar", "v1", {good, lying});
  Daemon d;
  auto r = pull(d, reg.host() + "/test/liar:v1");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("layer " + busybox().digest + ": diff_id mismatch"), std::string::npos)
      << r.status.error_message();
  EXPECT_TRUE(list(d).empty());
  EXPECT_FALSE(fs::exists(layer_dir(d, busybox().digest))) << "the lying layer is not committed";
  EXPECT_TRUE(leftovers(d).empty());

  // The true diff_ids pass, and the layer then present is checked again
  // against the next config that names it.
  auto honest = fixtures::push_image(reg, "test/honest", "v1", {good, busybox()});
  auto ok = pull(d, reg.host() + "/test/honest:v1");
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ(ok.id, honest.config_digest);
  auto again = pull(d, reg.host() + "/test/liar:v1");
  EXPECT_EQ(again.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << again.status.error_message();
  EXPECT_NE(again.status.error_message().find("diff_id"), std::string::npos) << again.status.error_message();
  EXPECT_EQ(list(d).size(), 1u);
}

// A stub in front of the registry that cuts the first transfer of `digest`
// halfway, and answers Range requests (206) when `ranges` is set.
struct CuttingStub {
  CuttingStub(Registry& reg, std::string digest, bool ranges)
      : stub([this, &reg, digest, ranges](const HttpStub::Request& req) {
          auto reply = HttpStub::forward("http://" + reg.host(), req);
          if (req.target.find("/blobs/" + digest) == std::string::npos) return reply;
          std::lock_guard lock(mu);
          auto range = req.headers.find("range");
          ranges_asked.push_back(range == req.headers.end() ? "" : range->second);
          if (cut_once) {
            cut_once = false;
            reply.truncate = true;
            return reply;
          }
          std::smatch m;
          if (ranges && range != req.headers.end() && std::regex_match(range->second, m, std::regex("bytes=(\\d+)-"))) {
            const size_t from = std::stoul(m[1]);
            const size_t total = reply.body.size();
            reply.status = 206;
            reply.headers["Content-Range"] =
                "bytes " + std::to_string(from) + "-" + std::to_string(total - 1) + "/" + std::to_string(total);
            reply.body = reply.body.substr(from);
            resumed_bytes = reply.body.size();
          }
          return reply;
        }) {}
  std::mutex mu;
  bool cut_once = true;
  std::vector<std::string> ranges_asked;
  size_t resumed_bytes = 0;
  HttpStub stub;
};

TEST(ImageResume, CutMidLayerResumesWithARangeRequest) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  CuttingStub cut(reg, busybox().digest, true);
  Daemon d;
  auto r = pull(d, cut.stub.host() + "/test/busybox:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, img.config_digest);
  ASSERT_EQ(cut.ranges_asked.size(), 2u) << "one cut, one resumed request";
  EXPECT_EQ(cut.ranges_asked[0], "");
  EXPECT_EQ(cut.ranges_asked[1], "bytes=" + std::to_string(busybox().blob.size() / 2) + "-");
  EXPECT_EQ(cut.resumed_bytes, busybox().blob.size() - busybox().blob.size() / 2) << "only the rest was sent again";
  EXPECT_FALSE(log_lines(d, "blob transfer cut off; resuming").empty());
  EXPECT_TRUE(fs::exists(layer_dir(d, busybox().digest) + "/bin/busybox"));
  EXPECT_TRUE(leftovers(d).empty());
}

TEST(ImageResume, CutMidLayerWithoutRangeSupportStillCompletes) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  CuttingStub cut(reg, busybox().digest, false);  // answers the retry with the whole blob (200)
  Daemon d;
  auto r = pull(d, cut.stub.host() + "/test/busybox:v1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message() << "\n" << d.log();
  EXPECT_EQ(r.id, img.config_digest);
  EXPECT_EQ(cut.ranges_asked.size(), 2u);
  EXPECT_TRUE(fs::exists(layer_dir(d, busybox().digest) + "/bin/busybox"));
  auto metrics = http_get(d.metrics_address(), "/metrics");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics, m, std::regex("crius_image_pull_bytes_total (\\d+)")));
  EXPECT_EQ(std::stoull(m[1]), img.blob_bytes) << "bytes the layer already had are not counted twice";
}

TEST(ImageLeftovers, UnreferencedContentGoesAtStartReferencedStays) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/busybox", "v1", {busybox()});
  Daemon d;
  ASSERT_TRUE(pull(d, reg.host() + "/test/busybox:v1").status.ok());
  ASSERT_EQ(d.stop(), 0);

  // What a crash leaves: a layer committed without its record, its blobs,
  // temporary dirs and files of a killed pull; and a layer that only a
  // container still uses (its image was removed while it ran).
  const std::string images = d.dir() / "root/images";
  const std::string orphan(64, 'a'), in_container(64, 'b'), orphan_blob(64, 'c');
  write_file(images + "/layers/" + orphan + "/diff/file", "orphan");
  write_file(images + "/layers/" + orphan + "/link", "ORPHANLINK");
  fs::create_symlink("../" + orphan + "/diff", images + "/layers/l/ORPHANLINK");
  write_file(images + "/layers/" + in_container + "/diff/file", "used");
  write_file(images + "/containers/c1/layers.json", "[\"sha256:" + in_container + "\"]");
  // The container's own record (an exited one): a root filesystem without a
  // record is a crash leftover, removed at start with the layers only it held.
  write_file(d.dir() / "root/containers/c1.json", R"({"id":"c1","podId":"p1","state":2})");
  write_file(images + "/blobs/sha256/" + orphan_blob, "{}");
  write_file(images + "/layers/tmp-0123456789ab-cafe/diff/partial", "half");
  write_file(images + "/ingest/0123456789abcdef-cafe", "half");

  d.restart();
  EXPECT_FALSE(fs::exists(images + "/layers/" + orphan));
  EXPECT_FALSE(fs::is_symlink(images + "/layers/l/ORPHANLINK"));
  EXPECT_FALSE(fs::exists(images + "/blobs/sha256/" + orphan_blob));
  EXPECT_TRUE(leftovers(d).empty()) << leftovers(d).front();
  EXPECT_EQ(read_file(images + "/layers/" + in_container + "/diff/file"), "used") << "a container's layer stays";
  EXPECT_TRUE(fs::exists(layer_dir(d, busybox().digest) + "/bin/busybox")) << "the image's layer stays";
  EXPECT_TRUE(fs::exists(images + "/blobs/sha256/" + img.config_digest.substr(7)));
  EXPECT_TRUE(fs::exists(images + "/blobs/sha256/" + img.manifest_digest.substr(7)));
  auto st = status(d, reg.host() + "/test/busybox:v1");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->id(), img.config_digest);
  EXPECT_FALSE(log_lines(d, "removed leftover of an earlier run").empty());
}

TEST(ImageProgress, SlowPullLogsBytesDoneOfTotal) {
  Registry reg;
  // About 700 KiB sent at 100 KiB/s: some 7 s, past the 5 s between progress lines.
  auto layer = fixtures::make_layer({{.path = "noise", .type = 'f', .data = noise(700 << 10), .mode = 0644}},
                                    Compression::gzip);
  auto img = fixtures::push_image(reg, "test/slow", "v1", {layer});
  HttpStub stub([&](const HttpStub::Request& req) {
    auto reply = HttpStub::forward("http://" + reg.host(), req);
    if (req.target.find("/blobs/" + layer.digest) != std::string::npos) reply.rate = 100 << 10;
    return reply;
  });
  Daemon d;
  const auto p = pod("team-b", "batch-1", "uid-77");
  auto r = pull(d, stub.host() + "/test/slow:v1", nullptr, &p);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  bool seen = false;
  for (const auto& line : log_lines(d, "pulling image")) {
    if (line.find(" done=") == std::string::npos) continue;  // the start line has no bytes done
    seen = true;
    EXPECT_TRUE(std::regex_search(line, std::regex(" done=[0-9.]+[KM]iB total=[0-9.]+[KM]iB"))) << line;
    EXPECT_NE(line.find("pod=team-b/batch-1"), std::string::npos) << line;
  }
  EXPECT_TRUE(seen) << d.log();
  EXPECT_EQ(r.id, img.config_digest);
}

// crictl rmi gives up after 2 s while the daemon goes on deleting, and the
// user pulls again at once: a pull that found a layer present must not fail
// because a RemoveImage of another image then took that layer.
TEST(ImageRemoveDuringPull, ALayerTakenMidPullIsFetchedAgain) {
  Registry reg;
  const auto& shared = busybox();
  auto slow = fixtures::make_layer({{.path = "noise", .type = 'f', .data = noise(64 << 10), .mode = 0644}},
                                   Compression::gzip);
  fixtures::push_image(reg, "test/a", "v1", {shared});
  auto b = fixtures::push_image(reg, "test/b", "v1", {shared, slow});
  std::mutex mu;
  std::condition_variable cv;
  bool asked = false, go_on = false;
  HttpStub stub([&](const HttpStub::Request& req) {
    if (req.target.find("/blobs/" + slow.digest) != std::string::npos) {
      std::unique_lock lock(mu);
      asked = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return go_on; });
    }
    return HttpStub::forward("http://" + reg.host(), req);
  });
  // One layer at a time: the shared one is found present before the slow one is asked for.
  Daemon d({.config_yaml = "image:\n  max_parallel_layers: 1\n"});
  ASSERT_TRUE(pull(d, reg.host() + "/test/a:v1").status.ok());
  const std::string shared_dir = layer_dir(d, shared.digest);
  ASSERT_TRUE(fs::exists(shared_dir + "/bin/busybox"));

  PullResult pulled;
  std::thread puller([&] { pulled = pull(d, stub.host() + "/test/b:v1"); });
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return asked; }));
  }
  // B is not an image yet, so nothing holds the layer A brought.
  EXPECT_TRUE(remove(d, reg.host() + "/test/a:v1").ok());
  EXPECT_FALSE(fs::exists(shared_dir));
  {
    std::lock_guard lock(mu);
    go_on = true;
  }
  cv.notify_all();
  puller.join();

  ASSERT_TRUE(pulled.status.ok()) << pulled.status.error_message();
  EXPECT_EQ(pulled.id, b.config_digest);
  EXPECT_TRUE(fs::exists(shared_dir + "/bin/busybox"));
  EXPECT_TRUE(fs::exists(layer_dir(d, slow.digest) + "/noise"));
  EXPECT_EQ(log_lines(d, "part of the image was removed while it was pulled; pulling again").size(), 1u) << d.log();
  // What the removal moved aside (layers/tmp-rm-…) is gone too.
  EXPECT_TRUE(leftovers(d).empty()) << leftovers(d).front();
}

}  // namespace
}  // namespace crius::test

namespace crius::test {
namespace {

// The daemon's crius-pull processes (children named so).
std::vector<pid_t> pull_helpers(pid_t daemon) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file_or_empty(e.path().string() + "/stat");
    // pid (comm) state ppid …
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || stat.find("(crius-pull)") == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == daemon) out.push_back(std::stoi(name));
  }
  return out;
}

// A pull's process killed (the OOM killer, a crash in an unpacker) while it
// unpacks: the client hears Internal saying so, and nothing half-made of the
// pull is left in the store while the daemon runs on; the next pull works.
TEST(ImagePullHelper, KilledMidLayerLeavesNothingAndTheNextPullWorks) {
  Registry reg;
  auto img = fixtures::push_image(reg, "test/a", "v1", {busybox()});
  std::mutex mu;
  std::condition_variable cv;
  bool asked = false, go_on = false;
  HttpStub stub([&](const HttpStub::Request& req) {
    if (req.target.find("/blobs/" + busybox().digest) != std::string::npos) {
      std::unique_lock lock(mu);
      if (!go_on) {
        asked = true;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return go_on; });
      }
    }
    return HttpStub::forward("http://" + reg.host(), req);
  });
  Daemon d;
  PullResult pulled;
  std::thread puller([&] { pulled = pull(d, stub.host() + "/test/a:v1"); });
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return asked; }));
  }
  const auto helpers = pull_helpers(d.pid());
  ASSERT_EQ(helpers.size(), 1u);
  EXPECT_FALSE(leftovers(d).empty()) << "the layer being unpacked is not in the store's scratch";
  ASSERT_EQ(::kill(helpers.front(), SIGKILL), 0);
  {
    std::lock_guard lock(mu);
    go_on = true;
  }
  cv.notify_all();
  puller.join();

  EXPECT_EQ(pulled.status.error_code(), grpc::StatusCode::INTERNAL) << pulled.status.error_message();
  EXPECT_NE(pulled.status.error_message().find("crius-pull was killed by"), std::string::npos)
      << pulled.status.error_message();
  // Only the layer's lock file stays, released with the process: the next
  // pull of the layer takes it and removes it (as the next start would).
  for (const auto& p : leftovers(d))
    EXPECT_EQ(p, d.dir() / ("root/images/ingest/lock-layer-" + busybox().digest.substr(7)));
  EXPECT_TRUE(pull_helpers(d.pid()).empty()) << "the killed helper was not reaped";
  EXPECT_TRUE(list(d).empty());

  auto again = pull(d, stub.host() + "/test/a:v1");
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.id, img.config_digest);
  EXPECT_TRUE(leftovers(d).empty()) << leftovers(d).front();
}

}  // namespace
}  // namespace crius::test
