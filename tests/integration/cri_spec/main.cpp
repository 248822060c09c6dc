// Prepares the host once (subreaper, crun's hybrid cgroup quirk) before
// GoogleTest starts any thread, as the runtime suite does.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/integration/runtime/harness.h"

int main(int argc, char** argv) {
  const std::string note = crius::testing::rt::prepare_host();
  ::testing::InitGoogleTest(&argc, argv);
  if (!note.empty() && !::testing::GTEST_FLAG(list_tests)) std::cerr << "note: " << note << "\n";
  return RUN_ALL_TESTS();
}
