// Monitor integration tests: prepare the host once (subreaper, crun's hybrid
// cgroup quirk) before GoogleTest starts any thread; monitors started by the
// tests run in the same mount namespace.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/integration/runtime/harness.h"

int main(int argc, char** argv) {
  const std::string note = crius::testing::rt::prepare_host();
  ::testing::InitGoogleTest(&argc, argv);
  if (!note.empty() && !::testing::GTEST_FLAG(list_tests)) std::cerr << "note: " << note << "\n";
  return RUN_ALL_TESTS();
}
