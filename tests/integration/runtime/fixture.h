// The parametrized fixture: every runtime test runs once per runtime binary
// (runc and crun as references, crius-runtime when it is built).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/runtime/harness.h"

namespace crius::testing::rt {

struct RuntimeParam {
  std::string name;    // "runc", "crun", "crius-runtime"
  std::string binary;  // absolute path
};

inline void PrintTo(const RuntimeParam& p, std::ostream* os) { *os << p.name; }

std::vector<RuntimeParam> runtimes_under_test();
// gtest parameter names allow [A-Za-z0-9_] only: "crius-runtime" shows as "crius_runtime".
std::string param_name(const ::testing::TestParamInfo<RuntimeParam>& info);

class RuntimeTest : public ::testing::TestWithParam<RuntimeParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  const Runtime& rt() const { return *rt_; }
  bool is(const std::string& name) const { return GetParam().name == name; }
  // A new directory under this test's temp dir.
  fs::path dir(const std::string& name);
  const fs::path& tmp() const { return tmp_->path(); }
  // A bundle under this test's temp dir (busybox rootfs, baseline spec).
  std::unique_ptr<Bundle> bundle(const std::string& name = "bundle");
  std::unique_ptr<Container> container(const std::string& hint = "c");

  // Set by SetUp when the test must be skipped (known gap, not root…).
  std::string skip_reason_;

 private:
  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<Runtime> rt_;
};

// Skips the test for a reference runtime (runc/crun) whose packaged version
// lacks a feature of the spec; the reason names the version and the feature.
#define CRIUS_SKIP_REFERENCE_GAP(runtime, reason) \
  do {                                            \
    if (is(runtime)) GTEST_SKIP() << (reason);    \
  } while (0)

// An empty runtime list (neither runc nor crun installed) is not an error.
#define CRIUS_RUNTIME_SUITE(Suite)                      \
  class Suite : public RuntimeTest {};                  \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Suite); \
  INSTANTIATE_TEST_SUITE_P(Runtime, Suite, ::testing::ValuesIn(runtimes_under_test()), param_name)

}  // namespace crius::testing::rt
