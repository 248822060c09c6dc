// Layer unpacking into overlay form: metadata kept, whiteouts converted,
// every compression, and hostile layers kept inside the layer directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "image/pull/layer_unpack.h"
#include "tests/fixtures/registry/image_builder.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;
using fixtures::Compression;
using fixtures::TarEntry;

struct Tmp {
  std::string path;
  Tmp() {
    std::string t = (fs::temp_directory_path() / "crius-unpack-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Tmp() { fs::remove_all(path); }
};

// Feeds `data` in small chunks, as a download would.
UnpackStats unpack(const std::string& dir, const std::string& data, size_t chunk = 1000) {
  size_t off = 0;
  return unpack_layer(dir, [&](std::string& out) {
    if (off >= data.size()) return false;
    out = data.substr(off, chunk);
    off += chunk;
    return true;
  });
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string xattr(const std::string& p, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

std::vector<TarEntry> rich_entries() {
  std::vector<TarEntry> e;
  e.push_back({.path = "etc/", .type = 'd', .mode = 0755});
  e.push_back({.path = "etc/config", .type = 'f', .data = "key=value\n", .mode = 0640, .uid = 1000, .gid = 2000,
               .mtime = 1600000000});
  e.push_back({.path = "bin/", .type = 'd', .mode = 0755});
  e.push_back({.path = "bin/suid", .type = 'f', .data = "#!/bin/sh\n", .mode = 04755, .uid = 0, .gid = 0});
  e.push_back({.path = "bin/ping", .type = 'f', .data = "ping", .mode = 0755,
               .xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20)},
                          {"user.note", "hello"}}});
  e.push_back({.path = "bin/sh", .type = 'l', .data = "busybox"});
  e.push_back({.path = "bin/config-link", .type = 'h', .data = "etc/config"});
  e.push_back({.path = "dev/", .type = 'd', .mode = 0755});
  e.push_back({.path = "dev/null", .type = 'c', .mode = 0666, .major = 1, .minor = 3});
  e.push_back({.path = "dev/loop9", .type = 'b', .mode = 0660, .major = 7, .minor = 9});
  e.push_back({.path = "dev/fifo", .type = 'p', .mode = 0600});
  e.push_back({.path = "implied/parent/file", .type = 'f', .data = "x"});
  e.push_back({.path = "srv/", .type = 'd', .mode = 0750, .uid = 33, .gid = 33, .mtime = 1500000000});
  return e;
}

TEST(LayerUnpack, KeepsOwnershipModesTimesLinksXattrsAndDevices) {
  Tmp t;
  auto stats = unpack(t.path, fixtures::make_tar(rich_entries(), Compression::gzip));
  EXPECT_EQ(stats.entries, rich_entries().size());
  struct stat st;
  ASSERT_EQ(::lstat((t.path + "/etc/config").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 2000u);
  EXPECT_EQ(st.st_mtime, 1600000000);
  EXPECT_EQ(st.st_nlink, 2u) << "the hard link shares the inode";
  EXPECT_EQ(slurp(t.path + "/bin/config-link"), "key=value\n");
  ASSERT_EQ(::lstat((t.path + "/bin/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u) << "set-uid survives the chown";
  EXPECT_EQ(fs::read_symlink(t.path + "/bin/sh"), "busybox");
  EXPECT_EQ(xattr(t.path + "/bin/ping", "user.note"), "hello");
  EXPECT_EQ(xattr(t.path + "/bin/ping", "security.capability").size(), 20u);
  ASSERT_EQ(::lstat((t.path + "/dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  ASSERT_EQ(::lstat((t.path + "/dev/loop9").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  ASSERT_EQ(::lstat((t.path + "/dev/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(slurp(t.path + "/implied/parent/file"), "x");
  ASSERT_EQ(::lstat((t.path + "/srv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, 33u);
  EXPECT_EQ(st.st_mtime, 1500000000) << "directory times are set after their children";
}

TEST(LayerUnpack, EveryCompressionGivesTheSameTree) {
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    Tmp t;
    unpack(t.path, fixtures::make_tar(rich_entries(), c), 333);
    EXPECT_EQ(slurp(t.path + "/etc/config"), "key=value\n") << static_cast<int>(c);
    EXPECT_TRUE(fs::is_character_file(t.path + "/dev/null"));
  }
}

TEST(LayerUnpack, DiffIdIsTheDigestOfTheUncompressedTar) {
  // The uncompressed tar, padding included, is what the config's diff_id names.
  const std::string tar = fixtures::make_tar(rich_entries(), Compression::none);
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    Tmp t;
    EXPECT_EQ(unpack(t.path, fixtures::make_tar(rich_entries(), c), 777).diff_id, fixtures::sha256_of(tar))
        << static_cast<int>(c);
  }
  // Padding after the end-of-archive blocks counts too.
  Tmp padded;
  EXPECT_EQ(unpack(padded.path, tar + std::string(10240, '\0')).diff_id, fixtures::sha256_of(tar + std::string(10240, '\0')));
  Tmp empty;
  EXPECT_EQ(unpack(empty.path, "").diff_id, fixtures::sha256_of(""));
}

TEST(LayerUnpack, WhiteoutsBecomeOverlayWhiteouts) {
  Tmp t;
  unpack(t.path, fixtures::make_tar({{.path = "etc/", .type = 'd', .mode = 0755},
                                     {.path = "etc/.wh.removed.conf", .type = 'f'},
                                     {.path = "var/", .type = 'd', .mode = 0755},
                                     {.path = "var/cache/", .type = 'd', .mode = 0755},
                                     {.path = "var/cache/.wh..wh..opq", .type = 'f'},
                                     {.path = "var/cache/fresh", .type = 'f', .data = "new"}},
                                    Compression::gzip));
  struct stat st;
  ASSERT_EQ(::lstat((t.path + "/etc/removed.conf").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_FALSE(fs::exists(t.path + "/etc/.wh.removed.conf"));
  EXPECT_EQ(xattr(t.path + "/var/cache", "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(fs::exists(t.path + "/var/cache/.wh..wh..opq"));
  EXPECT_EQ(slurp(t.path + "/var/cache/fresh"), "new");
}

// A layer directory inside a sandbox directory, so anything escaping the
// layer would land beside it where the test can see it.
struct Sandbox {
  Tmp outer;
  std::string layer = outer.path + "/a/b/layer";
  Sandbox() { fs::create_directories(layer); }
  std::vector<std::string> outside() const {
    std::vector<std::string> found;
    for (auto& e : fs::recursive_directory_iterator(outer.path)) {
      const std::string p = e.path().string();
      if (p.rfind(layer, 0) != 0 && p != outer.path + "/a" && p != outer.path + "/a/b") found.push_back(p);
    }
    return found;
  }
};

TEST(LayerUnpack, HostileDotDotAndAbsolutePathsStayInside) {
  Sandbox s;
  unpack(s.layer, fixtures::make_tar({{.path = "../../escape-dotdot", .type = 'f', .data = "1"},
                                      {.path = "/escape-absolute", .type = 'f', .data = "2"},
                                      {.path = "x/../../../../escape-mid", .type = 'f', .data = "3"}},
                                     Compression::gzip));
  EXPECT_TRUE(s.outside().empty()) << s.outside().front();
  EXPECT_EQ(slurp(s.layer + "/escape-dotdot"), "1");
  EXPECT_EQ(slurp(s.layer + "/escape-absolute"), "2");
  EXPECT_EQ(slurp(s.layer + "/escape-mid"), "3");
}

TEST(LayerUnpack, HostileSymlinksResolveInsideTheLayer) {
  Sandbox s;
  unpack(s.layer, fixtures::make_tar({{.path = "up", .type = 'l', .data = "../../.."},
                                      {.path = "abs", .type = 'l', .data = s.outer.path},
                                      {.path = "up/through-relative", .type = 'f', .data = "r"},
                                      {.path = "abs/through-absolute", .type = 'f', .data = "a"},
                                      {.path = "abs/newdir/deep", .type = 'f', .data = "d"}},
                                     Compression::gzip));
  EXPECT_TRUE(s.outside().empty()) << s.outside().front();
  // "up" resolves to the layer root; "abs" to <layer>/<outer path>.
  EXPECT_EQ(slurp(s.layer + "/through-relative"), "r");
  EXPECT_EQ(slurp(s.layer + s.outer.path + "/through-absolute"), "a");
  EXPECT_TRUE(fs::is_symlink(s.layer + "/up")) << "the symlinks themselves stay as written";
}

TEST(LayerUnpack, HostileHardLinkOutsideIsRefused) {
  Sandbox s;
  const std::string victim = s.outer.path + "/victim";
  std::ofstream(victim) << "secret";
  try {
    unpack(s.layer, fixtures::make_tar({{.path = "steal", .type = 'h', .data = victim}}, Compression::gzip));
    FAIL() << "a hard link to a file outside the layer was made";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("steal"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(s.layer + "/steal"));
  struct stat st;
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST(LayerUnpack, HostileSymlinkThenHardLinkThroughItIsContained) {
  Sandbox s;
  const std::string victim = s.outer.path + "/victim";
  std::ofstream(victim) << "secret";
  // A symlink to the victim, then a hard link to "through the symlink":
  // linkat without following links the symlink itself, never the victim.
  unpack(s.layer, fixtures::make_tar({{.path = "sym", .type = 'l', .data = victim},
                                      {.path = "hard", .type = 'h', .data = "sym"}},
                                     Compression::gzip));
  struct stat st;
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_TRUE(fs::is_symlink(s.layer + "/hard"));
}

// A later entry of the same name replaces an earlier one, whatever either
// is; a file never writes through a symlink in its place, and a directory
// swapped for a symlink between entries is resolved again, inside the layer.
TEST(LayerUnpack, LaterEntriesReplaceEarlierOnesOfTheSameName) {
  Sandbox s;
  const std::string victim = s.outer.path + "/victim";
  std::ofstream(victim) << "secret";
  unpack(s.layer, fixtures::make_tar({{.path = "d/", .type = 'd', .mode = 0755},
                                      {.path = "d/x", .type = 'f', .data = "1", .mode = 0644},
                                      {.path = "d/x", .type = 'l', .data = victim},
                                      {.path = "d/x", .type = 'f', .data = "2", .mode = 0600},
                                      {.path = "d/y/", .type = 'd', .mode = 0755},
                                      {.path = "d/y/in", .type = 'f', .data = "z", .mode = 0644},
                                      {.path = "d/y", .type = 'f', .data = "3", .mode = 0644},
                                      {.path = "d/z/", .type = 'd', .mode = 0755},
                                      {.path = "d/z/a", .type = 'f', .data = "a", .mode = 0644},
                                      {.path = "d", .type = 'l', .data = "/e"},
                                      {.path = "d/z/b", .type = 'f', .data = "b", .mode = 0644}},
                                     Compression::gzip));
  EXPECT_EQ(s.outside(), std::vector<std::string>{victim});
  EXPECT_EQ(slurp(victim), "secret");
  EXPECT_TRUE(fs::is_symlink(s.layer + "/d"));
  EXPECT_EQ(slurp(s.layer + "/e/z/b"), "b") << "d/z/b went through the new symlink d -> /e, inside the layer";
  EXPECT_FALSE(fs::exists(s.layer + "/e/z/a"));
  // The old directory d went with its files; what they became before that was checked by the same entries in e/.
  Tmp t;
  unpack(t.path, fixtures::make_tar({{.path = "d/", .type = 'd', .mode = 0755},
                                     {.path = "d/x", .type = 'f', .data = "1", .mode = 0644},
                                     {.path = "d/x", .type = 'l', .data = victim},
                                     {.path = "d/x", .type = 'f', .data = "2", .mode = 0600},
                                     {.path = "d/y/", .type = 'd', .mode = 0755},
                                     {.path = "d/y/in", .type = 'f', .data = "z", .mode = 0644},
                                     {.path = "d/y", .type = 'f', .data = "3", .mode = 0644}},
                                    Compression::gzip));
  EXPECT_EQ(slurp(victim), "secret");
  EXPECT_FALSE(fs::is_symlink(t.path + "/d/x"));
  EXPECT_EQ(slurp(t.path + "/d/x"), "2");
  struct stat st;
  ASSERT_EQ(::lstat((t.path + "/d/x").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(fs::is_regular_file(t.path + "/d/y"));
  EXPECT_EQ(slurp(t.path + "/d/y"), "3");
}

TEST(LayerUnpack, TruncatedOrGarbageStreamFails) {
  Tmp t;
  std::string tar = fixtures::make_tar(rich_entries(), Compression::gzip);
  EXPECT_THROW(unpack(t.path, tar.substr(0, tar.size() / 2)), Error);
  Tmp g;
  EXPECT_THROW(unpack(g.path, std::string(5000, 'z')), Error);
}

TEST(LayerUnpack, SourceErrorsPropagate) {
  Tmp t;
  EXPECT_THROW(unpack_layer(t.path, [](std::string&) -> bool { throw DeadlineExceeded("stalled"); }), Error);
}

TEST(LayerUnpack, CleanEntryPath) {
  EXPECT_EQ(clean_entry_path("./a/./b/"), "a/b");
  EXPECT_EQ(clean_entry_path("/../../x"), "x");
  EXPECT_EQ(clean_entry_path("a/../../b/c/.."), "b");
  EXPECT_EQ(clean_entry_path("./"), "");
}

}  // namespace
}  // namespace crius::image
