// One pull at a time per key, across threads as across processes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "image/pull/key_lock.h"

namespace crius::image {
namespace {

namespace fs = std::filesystem;

TEST(KeyLock, ASecondTakerWaitsForTheFirstAndNoFileIsLeft) {
  std::string t = (fs::temp_directory_path() / "crius-keylock-XXXXXX").string();
  const std::string dir = ::mkdtemp(t.data());
  std::optional<KeyLock> first(std::in_place, dir, "layer-ab");
  EXPECT_TRUE(fs::exists(dir + "/lock-layer-ab"));
  std::atomic<bool> second_held{false};
  std::thread second([&] {
    KeyLock l(dir, "layer-ab");
    second_held = true;
  });
  {
    KeyLock other(dir, "layer-cd");  // another key does not wait
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(second_held) << "the second taker did not wait";
  first.reset();
  second.join();
  EXPECT_TRUE(second_held);
  EXPECT_TRUE(fs::is_empty(dir)) << "a lock file was left";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crius::image
