// The content store (verified, atomic blobs) and the image records.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/error.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/sha256.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;

struct Tmp {
  std::string path;
  Tmp() {
    std::string t = (fs::temp_directory_path() / "crius-image-unit-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Tmp() { fs::remove_all(path); }
};

TEST(ImageContentStore, VerifiedBlobBecomesVisibleOnlyOnCommit) {
  Tmp t;
  ContentStore store(t.path);
  const std::string data = "hello blob";
  const std::string digest = sha256_digest(data);
  {
    ContentStore::Writer w(store, digest, static_cast<int64_t>(data.size()));
    w.write(data.data(), 5);
    EXPECT_FALSE(store.has(digest)) << "a partial blob must never be visible";
    w.write(data.data() + 5, data.size() - 5);
    w.commit();
  }
  EXPECT_TRUE(store.has(digest));
  EXPECT_EQ(store.read(digest), data);
  EXPECT_TRUE(fs::is_empty(t.path + "/ingest"));
}

TEST(ImageContentStore, DigestMismatchStoresNothing) {
  Tmp t;
  ContentStore store(t.path);
  const std::string digest = sha256_digest("expected");
  {
    ContentStore::Writer w(store, digest, 8);
    w.write("tampered", 8);
    try {
      w.commit();
      FAIL() << "a mismatching blob was committed";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("digest mismatch"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(store.has(digest));
  EXPECT_TRUE(fs::is_empty(t.path + "/ingest")) << "the temporary file is removed";
  EXPECT_THROW(store.put(digest, "short"), Error);
  EXPECT_FALSE(store.has(digest));
}

TEST(ImageContentStore, Sha256OfKnownText) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

ImageRecord record(char c) {
  ImageRecord r;
  r.id = "sha256:" + std::string(64, c);
  r.layers = {"sha256:" + std::string(64, '1'), "sha256:" + std::string(63, '2') + c};
  r.size = 42;
  return r;
}

TEST(ImageRecords, PersistAndReload) {
  Tmp t;
  {
    ImageStore s(t.path);
    auto r = record('a');
    r.user = "1000:1000";
    r.env = {"A=1"};
    s.add(r, "docker.io/library/busybox:latest", "docker.io/library/busybox@sha256:" + std::string(64, 'f'));
  }
  ImageStore again(t.path);
  auto list = again.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].repo_tags, std::vector<std::string>{"docker.io/library/busybox:latest"});
  EXPECT_EQ(list[0].env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(list[0].user, "1000:1000");
}

TEST(ImageRecords, FindByIdTagDigestShortNameAndPrefix) {
  Tmp t;
  ImageStore s(t.path);
  const std::string d = "sha256:" + std::string(64, 'f');
  s.add(record('a'), "docker.io/library/busybox:latest", "docker.io/library/busybox@" + d);
  const std::vector<std::string> search = {"docker.io"};
  for (std::string q : {"sha256:" + std::string(64, 'a'), std::string(64, 'a'), std::string("aaaaaa"), std::string("busybox"),
                        std::string("busybox:latest"), std::string("docker.io/library/busybox"), "busybox@" + d})
    EXPECT_TRUE(s.find(q, search).has_value()) << q;
  EXPECT_FALSE(s.find("busybox:other", search));
  EXPECT_FALSE(s.find("bbbbbb", search));
}

TEST(ImageRecords, TagMovesToTheNewImage) {
  Tmp t;
  ImageStore s(t.path);
  s.add(record('a'), "docker.io/library/app:v1", "");
  s.add(record('b'), "docker.io/library/app:v1", "");
  auto old = s.find("sha256:" + std::string(64, 'a'), {});
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->repo_tags.empty()) << "the old image stays, untagged";
  EXPECT_EQ(s.find("app:v1", {"docker.io"})->id, "sha256:" + std::string(64, 'b'));
}

TEST(ImageRecords, RemoveTagUntagsWhenOthersRemainThenRemoves) {
  Tmp t;
  ImageStore s(t.path);
  s.add(record('a'), "docker.io/library/app:v1", "");
  s.add(record('a'), "docker.io/library/app:v2", "");
  auto first = s.remove("app:v1", {"docker.io"});
  EXPECT_TRUE(first.untagged);
  EXPECT_FALSE(first.removed);
  auto second = s.remove("app:v2", {"docker.io"});
  ASSERT_TRUE(second.removed);
  EXPECT_TRUE(s.list().empty());
  auto again = s.remove("app:v2", {"docker.io"});
  EXPECT_FALSE(again.removed) << "removing an absent image is a no-op";
}

TEST(ImageRecords, RemoveByIdRemovesAllTagsAndReportsUnusedLayers) {
  Tmp t;
  ImageStore s(t.path);
  s.add(record('a'), "docker.io/library/app:v1", "");
  s.add(record('a'), "docker.io/library/app:v2", "");
  s.add(record('b'), "docker.io/library/other:v1", "");
  auto r = s.remove("sha256:" + std::string(64, 'a'), {});
  ASSERT_TRUE(r.removed);
  auto unused = s.unused_layers(r.removed->layers);
  ASSERT_EQ(unused.size(), 1u) << "the shared bottom layer stays";
  EXPECT_EQ(unused[0], "sha256:" + std::string(63, '2') + 'a');
}

TEST(ImageRecords, ConfigFieldsAndUser) {
  ImageRecord r;
  read_image_config(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:)" +
                        std::string(64, 'c') + R"("]},"config":{"User":"app","Env":["PATH=/bin"],"Entrypoint":["/bin/sh"],
                        "Cmd":["-c","true"],"WorkingDir":"/srv","StopSignal":"SIGINT","Volumes":{"/data":{}},
                        "Labels":{"k":"v"}}})",
                    r);
  EXPECT_EQ(r.user, "app");
  EXPECT_EQ(r.env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(r.entrypoint, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(r.cmd, (std::vector<std::string>{"-c", "true"}));
  EXPECT_EQ(r.working_dir, "/srv");
  EXPECT_EQ(r.stop_signal, "SIGINT");
  EXPECT_EQ(r.volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(r.labels.at("k"), "v");
  EXPECT_EQ(r.diff_ids.size(), 1u);
  EXPECT_EQ(image_user("1000:1000").uid, 1000);
  EXPECT_EQ(image_user("app").username, "app");
  EXPECT_FALSE(image_user("").uid);
  EXPECT_THROW(read_image_config("[]", r), Error);
}

}  // namespace
}  // namespace crius::image
