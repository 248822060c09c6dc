// Full disks, end to end, each on a small tmpfs of the test's own: a pull
// that does not fit fails with RESOURCE_EXHAUSTED naming the path, leaves
// nothing partial, and works once space is freed; a container whose log
// disk fills keeps running under a monitor that drops its lines, and its
// log resumes, whole lines only, once space comes back.
#include "tests/e2e/container_helpers.h"
#include "tests/e2e/image_helpers.h"
//
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "base/mount.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"
#include "tests/support/eventually.h"

namespace crius::test {
namespace {

namespace fs = std::filesystem;
using crius::testing::eventually;

// A tmpfs of `size` on a directory of its own; unmounted (before the
// directory goes) however the test ends.
struct SmallDisk {
  TempDir dir;
  std::string path = dir / "disk";
  Mount mount;
  explicit SmallDisk(const std::string& size) {
    fs::create_directory(path);
    mount = Mount::make("tmpfs", path, "tmpfs", 0, "size=" + size + ",mode=0755", "test tmpfs on " + path);
  }
  // A file of `bytes` (or, with 0, as large as the disk takes); removing it frees the space.
  std::string fill(size_t bytes = 0) {
    const std::string filler = path + "/filler";
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0) << filler;
    const std::string chunk(1 << 16, 'f');
    for (size_t done = 0; bytes == 0 || done < bytes;) {
      const ssize_t n = ::write(fd, chunk.data(), bytes ? std::min(chunk.size(), bytes - done) : chunk.size());
      if (n <= 0) {
        EXPECT_TRUE(bytes == 0 && errno == ENOSPC) << "filling " << filler << ": " << std::strerror(errno);
        break;
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    return filler;
  }
};

// Bytes that do not compress, the same on every run.
std::string noise(size_t n) {
  std::mt19937_64 rng(17);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

// Every path below `dir`, relative to it.
std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  return out;
}

TEST(FullDisk, PullThatDoesNotFitFailsNamingThePathLeavesNothingAndWorksOnceSpaceIsFreed) {
  fixtures::Registry reg;
  const auto big = fixtures::make_layer({{.path = "data/noise", .type = 'f', .data = noise(24 << 20), .mode = 0644}},
                                        fixtures::Compression::gzip);
  const auto img = fixtures::push_image(reg, "test/big", "v1", {big});
  // 40 MiB, 24 of them taken: the 24 MiB layer cannot fit until they are freed.
  SmallDisk disk("40m");
  const std::string root = disk.path + "/root";
  Daemon d({.extra_args = {"--root", root}});
  const std::string filler = disk.fill(24 << 20);

  auto r = image_e2e::pull(d, reg.host() + "/test/big:v1");
  ASSERT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status.error_message();
  const std::string msg = r.status.error_message();
  EXPECT_NE(msg.find(root + "/images/layers/tmp-"), std::string::npos) << "names where it was unpacking: " << msg;
  EXPECT_NE(msg.find("data/noise"), std::string::npos) << "names the file it was writing: " << msg;
  EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
  EXPECT_TRUE(image_e2e::list(d).empty());

  // Nothing partial: no temporary layer or file, no layer, an empty ingest
  // dir; a blob that is there (the config, fetched first) is whole.
  for (const auto& p : tree(root)) {
    EXPECT_EQ(p.find("tmp-"), std::string::npos) << p;
    EXPECT_EQ(p.find(".tmp"), std::string::npos) << p;
    EXPECT_EQ(p.rfind("images/ingest/", 0), std::string::npos) << p;
    EXPECT_NE(p, "images/layers/" + big.digest.substr(7)) << "the layer that did not fit";
    if (p.rfind("images/blobs/sha256/", 0) == 0) {
      EXPECT_EQ("sha256:" + fs::path(p).filename().string(), fixtures::sha256_of(read_file(root + "/" + p))) << p;
    }
  }

  fs::remove(filler);
  auto ok = image_e2e::pull(d, reg.host() + "/test/big:v1");
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ(ok.id, img.config_digest);
  EXPECT_EQ(fs::file_size(root + "/images/layers/" + big.digest.substr(7) + "/diff/data/noise"), 24u << 20);
  EXPECT_EQ(image_e2e::list(d).size(), 1u);
}

// The pod's monitor: its pid and the directory its own log (monitor.log) is in.
struct MonitorOf {
  int pid = 0;
  std::string dir;
};
MonitorOf monitor_of(const std::string& pod_id) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::vector<std::string> args;
    for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
    if (args.empty() || args[0].find("crius-monitor") == std::string::npos) continue;
    if (std::find(args.begin(), args.end(), pod_id) == args.end()) continue;
    auto dir = std::find(args.begin(), args.end(), "--dir");
    if (dir != args.end() && dir + 1 != args.end()) return {std::stoi(name), *(dir + 1)};
  }
  return {};
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The numbers of the "line-<n>-…" records of a CRI log; fails the test on a
// line that is not a whole record. A last line without its newline is one
// being written as the file is read: left for the next look.
std::vector<long> numbered_lines(const std::string& path) {
  static const std::regex record(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F line-(\d+)-x{100}$)");
  std::vector<long> out;
  std::string text = read_file(path);
  text.erase(text.rfind('\n') + 1);  // npos + 1: nothing is whole
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, record)) out.push_back(std::stol(m[1]));
    else ADD_FAILURE() << path << ": not a whole record: \"" << line << "\"";
  }
  return out;
}

TEST(FullDisk, ContainerLogOnAFullDiskDropsLinesKeepsRunningAndResumes) {
  SmallDisk logs("2m");
  ContainerEnv env;  // after `logs`: its pods (and monitors) go before the disk is unmounted
  auto pc = pod_config("full-log");
  pc.set_log_directory(logs.path + "/pod");
  std::string pod;
  ASSERT_TRUE(run_pod(env.daemon, pc, &pod).ok());
  env.pods[pod] = pc;
  const std::string id = env.create(
      pod, container_config("talker", env.image,
                            {"sh", "-c",
                             "i=0; while [ $i -lt 100000 ]; do echo line-$i-" + std::string(100, 'x') +
                                 "; echo $i > /tmp/said; i=$((i+1)); sleep 0.01; done"}));
  ASSERT_TRUE(wait_log(env.daemon, id, "line-20-"));
  // How far the container got, whatever its log took (-1: not known just now).
  const std::string said_file = "/proc/" + std::to_string(container_info(env.daemon, id).value("pid", 0)) + "/root/tmp/said";
  auto said = [&] {
    const std::string text = read_file(said_file);
    return text.empty() || text.back() != '\n' ? -1L : std::stol(text);
  };
  auto goes_on_for = [&](long lines) {
    long from = -1;
    return eventually([&] { return (from = said()) >= 0; }) &&
           eventually([&] { return said() >= from + lines; }, std::chrono::seconds(20));
  };
  const MonitorOf monitor = monitor_of(pod);
  ASSERT_GT(monitor.pid, 0);
  const std::string monitor_log = monitor.dir + "/monitor.log";
  const std::string log_path = logs.path + "/pod/talker/0.log";
  ASSERT_EQ(container_status(env.daemon, id).status().log_path(), log_path);

  const std::string filler = logs.fill();
  ASSERT_TRUE(eventually([&] { return read_file(monitor_log).find("writing the log file failed") != std::string::npos; },
                         std::chrono::seconds(20)))
      << read_file(monitor_log);
  ASSERT_TRUE(goes_on_for(30)) << "the container stopped talking on the full disk";
  // kubelet rotates the log while the disk is full: the new file takes an inode, no space.
  fs::rename(log_path, log_path + ".1");
  v1::ReopenContainerLogRequest reopen;
  reopen.set_container_id(id);
  v1::ReopenContainerLogResponse reopened;
  auto s = env.daemon.runtime()->ReopenContainerLog(deadline_ctx().get(), reopen, &reopened);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(container_status(env.daemon, id).status().state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(::kill(monitor.pid, 0), 0) << "the monitor died on the full disk";
  ASSERT_TRUE(goes_on_for(30));

  fs::remove(filler);
  ASSERT_TRUE(eventually([&] { return numbered_lines(log_path).size() >= 20; }, std::chrono::seconds(20)))
      << "the log did not resume once space was back";
  ASSERT_TRUE(eventually([&] { return read_file(monitor_log).find("writing the log file again") != std::string::npos; },
                         std::chrono::seconds(30)))
      << read_file(monitor_log);
  const std::string told = read_file(monitor_log);
  EXPECT_EQ(count_of(told, "writing the log file failed"), 1u) << "once for the episode, not per line:\n" << told;
  const std::regex dropped_field(R"(dropped_lines=([0-9]+))");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(told, m, dropped_field)) << told;
  const long dropped = std::stol(m[1]);
  EXPECT_GE(dropped, 30) << "the lines said while the disk was full";

  // Whole records only, in order; the ones missing are exactly those counted.
  std::vector<long> numbers = numbered_lines(log_path + ".1");
  const size_t before = numbers.size();
  for (long n : numbered_lines(log_path)) numbers.push_back(n);
  ASSERT_GT(before, 20u);
  ASSERT_EQ(numbers[0], 0);
  long missing = 0;
  for (size_t i = 1; i < numbers.size(); ++i) {
    ASSERT_GT(numbers[i], numbers[i - 1]) << "at record " << i;
    missing += numbers[i] - numbers[i - 1] - 1;
  }
  EXPECT_EQ(missing, dropped);
  EXPECT_EQ(container_status(env.daemon, id).status().state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(monitor_of(pod).pid, monitor.pid);
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
}

}  // namespace
}  // namespace crius::test
