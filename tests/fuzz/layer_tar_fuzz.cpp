// Fuzzes layer unpacking (image::unpack_layer) with what a registry serves
// as a layer blob: gzip, zstd or plain tar bytes, fed in chunks as a pull
// feeds them. Each input is unpacked into a fresh directory
// <base>/a/b/root, where <base>, <base>/a and <base>/a/b each hold a canary
// file.
// Invariants: nothing outside root changes (no new or removed entry in the
// three directories above it; their owner and mode, and the canaries'
// content, mode, owner, times and link count are as before); a layer that
// unpacks gives a sha256 diff_id; failures are crius::Error only.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file.h"
#include "image/pull/layer_unpack.h"
#include "image/reference.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

const char kCanary[] = "canary: must never change\n";

struct Watched {
  std::string path;
  struct stat st;
};

struct Fixture {
  std::string base, root;
  std::vector<std::string> dirs;   // base, base/a, base/a/b
  std::vector<Watched> canaries;

  Fixture() {
    char tmpl[] = "/tmp/crius-layer-fuzz-XXXXXX";
    CRIUS_FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    base = tmpl;
    CRIUS_FUZZ_CHECK(::chmod(base.c_str(), 0755) == 0);
    dirs = {base, base + "/a", base + "/a/b"};
    root = base + "/a/b/root";
    for (const auto& d : dirs) {
      if (d != base) CRIUS_FUZZ_CHECK(::mkdir(d.c_str(), 0755) == 0);
      const std::string c = d + "/canary";
      crius::write_file(c, kCanary, O_CREAT | O_TRUNC);
      Watched w{c, {}};
      CRIUS_FUZZ_CHECK(::lstat(c.c_str(), &w.st) == 0);
      canaries.push_back(w);
    }
  }
  ~Fixture() { crius::remove_all(base); }
};

std::set<std::string> names(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  CRIUS_FUZZ_CHECK(d != nullptr);
  while (dirent* e = ::readdir(d))
    if (std::string n = e->d_name; n != "." && n != "..") out.insert(n);
  ::closedir(d);
  return out;
}

bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

void check_untouched(const Fixture& f) {
  const std::set<std::string> leaf = {"canary", "root"};
  const std::set<std::string> inner = {"a", "canary"}, middle = {"b", "canary"};
  CRIUS_FUZZ_CHECK(names(f.dirs[0]) == inner);
  CRIUS_FUZZ_CHECK(names(f.dirs[1]) == middle);
  CRIUS_FUZZ_CHECK(names(f.dirs[2]) == leaf);
  for (const auto& d : f.dirs) {
    struct stat st;
    CRIUS_FUZZ_CHECK(::lstat(d.c_str(), &st) == 0);
    CRIUS_FUZZ_CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 && st.st_uid == ::geteuid());
  }
  for (const auto& c : f.canaries) {
    struct stat st;
    CRIUS_FUZZ_CHECK(::lstat(c.path.c_str(), &st) == 0);
    CRIUS_FUZZ_CHECK(st.st_ino == c.st.st_ino && st.st_mode == c.st.st_mode && st.st_uid == c.st.st_uid &&
                     st.st_gid == c.st.st_gid && st.st_nlink == 1 && st.st_size == c.st.st_size);
    CRIUS_FUZZ_CHECK(same_time(st.st_mtim, c.st.st_mtim) && same_time(st.st_ctim, c.st.st_ctim));
    CRIUS_FUZZ_CHECK(crius::read_file(c.path) == kCanary);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  CRIUS_FUZZ_CHECK(::mkdir(fixture.root.c_str(), 0755) == 0);

  // Chunks of a size that depends on the input, so that headers and
  // compressed frames are split at varied places.
  const std::string_view in = crius::fuzz::text(data, size);
  const size_t step = 1 + (size * 131) % 4096;
  size_t pos = 0;
  const crius::image::ChunkSource source = [&](std::string& chunk) {
    if (pos >= in.size()) return false;
    chunk.assign(in.substr(pos, step));
    pos += chunk.size();
    return true;
  };
  try {
    const crius::image::UnpackStats stats = crius::image::unpack_layer(fixture.root, source);
    CRIUS_FUZZ_CHECK(crius::image::is_sha256_digest(stats.diff_id));
  } catch (const crius::Error&) {
  }
  check_untouched(fixture);
  crius::remove_all(fixture.root);
  return 0;
}
