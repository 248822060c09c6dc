// runtime.cdi_spec_dirs: the CDI spec directories, /etc/cdi then /var/run/cdi by default.
#include "conf/print.h"
#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

using ConfCdiDirs = ConfFixture;

TEST_F(ConfCdiDirs, DefaultsToEtcThenVarRun) {
  EXPECT_EQ(load_with().runtime.cdi_spec_dirs, (std::vector<std::string>{"/etc/cdi", "/var/run/cdi"}));
}

TEST_F(ConfCdiDirs, SetByFileOrFlagAndPrinted) {
  write(main_, "runtime:\n  cdi_spec_dirs: [/opt/cdi]\n");
  EXPECT_EQ(load_with().runtime.cdi_spec_dirs, std::vector<std::string>{"/opt/cdi"});
  const Config c = load_with({"--runtime-cdi-spec-dirs=/a,/b"});
  EXPECT_EQ(c.runtime.cdi_spec_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(to_json(c)["runtime"]["cdi_spec_dirs"], nlohmann::json({"/a", "/b"}));
  EXPECT_NE(to_yaml(c).find("cdi_spec_dirs:"), std::string::npos);
  // None at all turns CDI off.
  write(main_, "runtime:\n  cdi_spec_dirs: []\n");
  EXPECT_TRUE(load_with().runtime.cdi_spec_dirs.empty());
}

TEST_F(ConfCdiDirs, MustBeAbsolute) {
  EXPECT_EQ(error({"--runtime-cdi-spec-dirs=/etc/cdi,run/cdi"}),
            "--runtime-cdi-spec-dirs: runtime.cdi_spec_dirs[1]: must be an absolute path, got \"run/cdi\"");
}

}  // namespace
}  // namespace crius::conf
