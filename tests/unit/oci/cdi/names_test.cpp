// Fully qualified CDI device names: vendor/class=name and each part's rules.
#include <gtest/gtest.h>

#include "base/error.h"
#include "oci/cdi/names.h"

namespace crius::oci::cdi {
namespace {

TEST(CdiNames, AFullyQualifiedNameSplitsIntoItsParts) {
  const QualifiedName q = parse_qualified_name("nvidia.com/gpu=0");
  EXPECT_EQ(q.vendor, "nvidia.com");
  EXPECT_EQ(q.device_class, "gpu");
  EXPECT_EQ(q.name, "0");
  EXPECT_EQ(q.kind(), "nvidia.com/gpu");
  EXPECT_EQ(q.str(), "nvidia.com/gpu=0");
  EXPECT_EQ(parse_qualified_name("vendor.com/class.v2=dev:0_a-b.c").name, "dev:0_a-b.c");
  EXPECT_EQ(parse_qualified_name("a/b=c").kind(), "a/b");
}

TEST(CdiNames, BadNamesAreRefusedWithTheReason) {
  struct Case {
    const char* name;
    const char* reason;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"gpu0", "not fully qualified"},
           {"nvidia.com/gpu", "not fully qualified"},
           {"nvidia.com=gpu0", "not of the form vendor/class"},
           {"/dev/gpu=0", "vendor is empty"},
           {"1vendor.com/gpu=0", "must start with a letter"},
           {"vendor.com-/gpu=0", "must end with a letter or digit"},
           {"ven dor/gpu=0", "only letters, digits"},
           {"vendor.com/=0", "class is empty"},
           {"vendor.com/gpu/x=0", "only letters, digits"},
           {"vendor.com/gpu=", "device name is empty"},
           {"vendor.com/gpu=-0", "must start and end with a letter or digit"},
           {"vendor.com/gpu=0:", "must start and end with a letter or digit"},
           {"vendor.com/gpu=a/b", "only letters, digits, '_', '-', '.' and ':'"},
       }) {
    try {
      parse_qualified_name(c.name);
      ADD_FAILURE() << c.name << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << c.name;
      EXPECT_NE(std::string(e.what()).find(c.reason), std::string::npos) << c.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string("\"") + c.name + "\""), std::string::npos) << e.what();
    }
  }
}

TEST(CdiNames, ClassIsAtMost63Characters) {
  EXPECT_FALSE(class_problem(std::string(63, 'a')));
  ASSERT_TRUE(class_problem(std::string(64, 'a')));
  EXPECT_NE(class_problem(std::string(64, 'a'))->find("longer than 63"), std::string::npos);
  EXPECT_FALSE(vendor_problem("example.com"));
  EXPECT_TRUE(vendor_problem(std::string(254, 'a')));
}

}  // namespace
}  // namespace crius::oci::cdi
