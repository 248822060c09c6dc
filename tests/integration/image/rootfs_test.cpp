// Container root filesystems: overlays of pulled images, read-only mounts,
// whiteouts seen through the overlay, images with more layers than fit in a
// page of mount options, and layers held by a container past image removal.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "image/images.h"
#include "image/pull/puller.h"
#include "tests/fixtures/registry/image_builder.h"
#include "tests/fixtures/registry/registry.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;
using fixtures::Compression;

struct Tmp {
  std::string path;
  Tmp() {
    std::string t = (fs::temp_directory_path() / "crius-rootfs-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~Tmp() { fs::remove_all(path); }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Rootfs : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fixtures::make_layer({{.path = "etc/", .type = 'd', .mode = 0755},
                                  {.path = "etc/keep", .type = 'f', .data = "base", .mode = 0644},
                                  {.path = "etc/gone", .type = 'f', .data = "deleted above", .mode = 0644}},
                                 Compression::gzip);
    top_ = fixtures::make_layer({{.path = "etc/.wh.gone", .type = 'f', .mode = 0644},
                                 {.path = "etc/keep", .type = 'f', .data = "top", .mode = 0644}},
                                Compression::zstd);
    fixtures::push_image(registry_, "test/app", "v1", {base_, top_});
    config_.short_name_search = {registry_.host()};
  }
  void TearDown() override {
    for (const auto& id : mounted_) {
      try {
        images_.remove_rootfs(id);
      } catch (const std::exception&) {
      }
    }
  }
  std::string mount(const std::string& id, const std::string& image, bool ro = false) {
    mounted_.push_back(id);
    return images_.mount_rootfs(id, image, ro, config_);
  }

  fixtures::Registry registry_;
  fixtures::Layer base_, top_;
  Tmp root_;
  conf::ImageConfig config_;
  Images images_{root_.path, root_.path + "/certs.d", in_process_pull_runner()};
  std::vector<std::string> mounted_;
};

TEST_F(Rootfs, OverlayOfTheImageLayersWithAWritableUpper) {
  const std::string id = images_.pull(registry_.host() + "/test/app:v1", {}, config_);
  const std::string merged = mount("c1", id);
  EXPECT_EQ(slurp(merged + "/etc/keep"), "top") << "the top layer wins";
  EXPECT_FALSE(fs::exists(merged + "/etc/gone")) << "the whiteout hides the lower file";
  std::ofstream(merged + "/etc/new") << "written";
  EXPECT_EQ(slurp(images_.containers_dir() + "/c1/upper/etc/new"), "written");
  EXPECT_FALSE(fs::exists(images_.layer_dir(top_.digest) + "/etc/new")) << "layers are never written";
  EXPECT_EQ(mount("c1", id), merged) << "mounting again is a no-op";
  images_.remove_rootfs("c1");
  EXPECT_FALSE(fs::exists(images_.containers_dir() + "/c1"));
  images_.remove_rootfs("c1");  // idempotent
}

TEST_F(Rootfs, ReadOnlyWhenAsked) {
  const std::string id = images_.pull(registry_.host() + "/test/app:v1", {}, config_);
  const std::string merged = mount("ro", id, true);
  EXPECT_EQ(slurp(merged + "/etc/keep"), "top");
  std::ofstream out(merged + "/etc/new");
  EXPECT_FALSE(out.is_open()) << "a read-only root filesystem refuses writes";
}

TEST_F(Rootfs, LayersInUseSurviveTheImageUntilTheContainerGoes) {
  const std::string id = images_.pull(registry_.host() + "/test/app:v1", {}, config_);
  const std::string merged = mount("c2", id);
  images_.remove(id, config_);
  EXPECT_FALSE(images_.find(id, config_));
  EXPECT_TRUE(fs::exists(images_.layer_dir(base_.digest))) << "the running container keeps its layers";
  EXPECT_EQ(slurp(merged + "/etc/keep"), "top");
  images_.remove_rootfs("c2");
  EXPECT_FALSE(fs::exists(images_.layer_dir(base_.digest))) << "freed once the container is removed";
  EXPECT_FALSE(fs::exists(images_.layer_dir(top_.digest)));
}

TEST_F(Rootfs, UnknownImageIsNotFound) {
  try {
    images_.mount_rootfs("c3", "nothing:here", false, config_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  EXPECT_THROW(images_.mount_rootfs("../escape", "x", false, config_), Error);
}

TEST_F(Rootfs, ManyLayersStayUnderThePageLimit) {
  std::vector<fixtures::Layer> layers;
  for (int i = 0; i < 150; ++i)
    layers.push_back(fixtures::make_layer({{.path = "layer-" + std::to_string(i), .type = 'f',
                                            .data = std::to_string(i), .mode = 0644}},
                                          Compression::gzip));
  fixtures::push_image(registry_, "test/tall", "v1", layers);
  config_.max_parallel_layers = 8;
  const std::string id = images_.pull(registry_.host() + "/test/tall:v1", {}, config_);
  const std::string merged = mount("tall", id);
  EXPECT_EQ(slurp(merged + "/layer-0"), "0");
  EXPECT_EQ(slurp(merged + "/layer-149"), "149");
}

}  // namespace
}  // namespace crius::image
