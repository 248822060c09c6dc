// Image volume sub paths: the text checks, and resolution beneath a root
// (a plain directory here; the daemon's is the image's read-only overlay).
#include "image/sub_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include "base/error.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;

std::optional<ErrorCode> code_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return std::nullopt;
}

TEST(ImageSubPath, RelativePathsAreKeptCleaned) {
  EXPECT_EQ(checked_sub_path("", "f"), "");
  EXPECT_EQ(checked_sub_path(".", "f"), "");
  EXPECT_EQ(checked_sub_path("data", "f"), "data");
  EXPECT_EQ(checked_sub_path("data/sub/", "f"), "data/sub");
  EXPECT_EQ(checked_sub_path("./data//sub/.", "f"), "data/sub");
  EXPECT_EQ(checked_sub_path("a..b/..c", "f"), "a..b/..c") << "dots inside a name are a name";
}

TEST(ImageSubPath, EscapesAreRefusedNamingFieldAndPath) {
  for (const std::string& bad : std::vector<std::string>{"..", "../etc", "data/../..", "data/..", "/data", "/", std::string("a\0b", 3)}) {
    std::string msg;
    EXPECT_EQ(code_of([&] { checked_sub_path(bad, "mounts[1].image_sub_path"); }, &msg), ErrorCode::invalid_argument)
        << bad;
    EXPECT_NE(msg.find("mounts[1].image_sub_path"), std::string::npos) << msg;
  }
}

class ResolveSubDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("crius-subpath-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "data/sub");
    std::ofstream(root_ / "file.txt") << "x";
    fs::create_directory_symlink("data/sub", root_ / "inside");
    fs::create_directory_symlink("/etc", root_ / "absolute");
    fs::create_directory_symlink("../../..", root_ / "up");
    fs::create_directory_symlink(".", root_ / "self");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string resolve(const std::string& sub) { return resolve_sub_dir(root_, sub, "mounts[0].image_sub_path"); }
  fs::path root_;
};

TEST_F(ResolveSubDir, DirectoriesInsideResolveToTheirRealPath) {
  const std::string real = fs::canonical(root_);
  EXPECT_EQ(resolve(""), real);
  EXPECT_EQ(resolve("data/sub"), real + "/data/sub");
  EXPECT_EQ(resolve("inside"), real + "/data/sub") << "a symlink that stays inside is followed";
  EXPECT_EQ(resolve("self"), real);
}

TEST_F(ResolveSubDir, MissingFilesAndEscapesAreInvalidArguments) {
  for (const std::string& bad : std::vector<std::string>{"nope", "data/nope", "file.txt", "file.txt/x", "absolute", "up", "up/etc"}) {
    std::string msg;
    EXPECT_EQ(code_of([&] { resolve(bad); }, &msg), ErrorCode::invalid_argument) << bad << ": " << msg;
    EXPECT_NE(msg.find("mounts[0].image_sub_path \"" + bad + "\""), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace crius::image
