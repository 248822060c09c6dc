// The image store's writes on a full disk (a small tmpfs filled to the last
// page): each fails with ResourceExhausted naming what it was writing,
// leaves no temporary file and keeps what was there before; the same write
// works once space is freed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "base/mount.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/pull/layer_unpack.h"
#include "image/sha256.h"
#include "tests/fixtures/registry/image_builder.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;

// A 1 MiB tmpfs on a fresh directory, unmounted and removed afterwards.
struct SmallDisk {
  std::string path;
  Mount mount;
  SmallDisk() {
    std::string t = (fs::temp_directory_path() / "crius-full-disk-XXXXXX").string();
    path = ::mkdtemp(t.data());
    mount = Mount::make("tmpfs", path, "tmpfs", 0, "size=1m,mode=0755", "test tmpfs on " + path);
  }
  ~SmallDisk() {
    mount = Mount();
    fs::remove_all(path);
  }
  // Writes a file until the disk has no page left; remove it to free them.
  std::string fill() {
    const std::string filler = path + "/filler";
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    const std::string chunk(4096, 'f');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    EXPECT_EQ(errno, ENOSPC);
    ::close(fd);
    return filler;
  }
  // Entries anywhere below `dir` whose name says they are temporary.
  std::vector<std::string> temporaries(const std::string& dir) const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string name = e.path().filename();
      if (name.find(".tmp-") != std::string::npos) out.push_back(e.path());
    }
    return out;
  }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The error `f` throws; fails the test when it throws none.
template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error was thrown";
  return Internal("none");
}

TEST(ImageFullDisk, AtomicWriteKeepsTheOldRecordAndLeavesNoTemporary) {
  SmallDisk disk;
  const std::string record = disk.path + "/records/r.json";
  write_file_atomic(record, "old");
  const std::string filler = disk.fill();
  const Error e = error_of([&] { write_file_atomic(record, std::string(8192, 'n')); });
  EXPECT_EQ(e.code(), ErrorCode::resource_exhausted) << e.what();
  EXPECT_NE(std::string(e.what()).find(record), std::string::npos) << e.what();
  EXPECT_EQ(slurp(record), "old");
  EXPECT_TRUE(disk.temporaries(disk.path).empty()) << disk.temporaries(disk.path).front();

  fs::remove(filler);
  write_file_atomic(record, std::string(8192, 'n'));
  EXPECT_EQ(slurp(record), std::string(8192, 'n'));
}

TEST(ImageFullDisk, BlobWriteFailsNamingTheFileAndLeavesNothing) {
  SmallDisk disk;
  ContentStore store(disk.path);
  const std::string data(64 * 1024, 'b');
  const std::string digest = sha256_digest(data);
  const std::string filler = disk.fill();
  const Error e = error_of([&] {
    ContentStore::Writer w(store, digest, static_cast<int64_t>(data.size()));
    w.write(data.data(), data.size());
    w.commit();
  });
  EXPECT_EQ(e.code(), ErrorCode::resource_exhausted) << e.what();
  EXPECT_NE(std::string(e.what()).find(disk.path + "/ingest/"), std::string::npos) << e.what();
  EXPECT_FALSE(store.has(digest));
  EXPECT_TRUE(fs::is_empty(disk.path + "/ingest"));

  fs::remove(filler);
  store.put(digest, data);
  EXPECT_EQ(store.read(digest), data);
}

TEST(ImageFullDisk, RecordsUnchangedWhenTheirFileCannotBeWritten) {
  SmallDisk disk;
  ImageStore records(disk.path);
  ImageRecord a;
  a.id = sha256_digest("a");
  records.add(a, "example.test/a:v1", "");
  const std::string before = slurp(disk.path + "/images.json");
  const std::string filler = disk.fill();

  ImageRecord b;
  b.id = sha256_digest("b");
  b.env.assign(200, std::string(40, 'e'));  // more than the page images.json has
  const Error e = error_of([&] { records.add(b, "example.test/a:v1", ""); });
  EXPECT_EQ(e.code(), ErrorCode::resource_exhausted) << e.what();
  EXPECT_NE(std::string(e.what()).find(disk.path + "/images.json"), std::string::npos) << e.what();
  // Neither on disk nor in memory: the tag did not move, b is unknown.
  EXPECT_EQ(slurp(disk.path + "/images.json"), before);
  ASSERT_EQ(records.list().size(), 1u);
  EXPECT_EQ(records.list()[0].repo_tags, std::vector<std::string>{"example.test/a:v1"});
  EXPECT_TRUE(disk.temporaries(disk.path).empty());

  fs::remove(filler);
  records.add(b, "example.test/a:v1", "");
  EXPECT_EQ(ImageStore(disk.path).list().size(), 2u);
}

TEST(ImageFullDisk, LayerUnpackFailsAsResourceExhaustedNamingTheEntry) {
  SmallDisk disk;
  const std::string layer_dir = disk.path + "/layer";
  fs::create_directory(layer_dir);
  const std::string tar =
      fixtures::make_tar({{.path = "data/big", .type = 'f', .data = std::string(2 << 20, 'x'), .mode = 0644}},
                         fixtures::Compression::gzip);
  size_t off = 0;
  const Error e = error_of([&] {
    unpack_layer(layer_dir, [&](std::string& out) {
      if (off >= tar.size()) return false;
      out = tar.substr(off, 4096);
      off += out.size();
      return true;
    });
  });
  EXPECT_EQ(e.code(), ErrorCode::resource_exhausted) << e.what();
  EXPECT_NE(std::string(e.what()).find("data/big"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace crius::image
