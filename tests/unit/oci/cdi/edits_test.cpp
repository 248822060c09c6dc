// Injecting CDI devices into a container's OCI spec: each kind of edit,
// the spec-wide edits, conflicts between devices, unknown and malformed
// names; a refused injection leaves the spec as it was.
#include <gtest/gtest.h>

#include "oci/cdi/edits.h"
#include "tests/unit/oci/cdi/cdi_fixture.h"

namespace crius::oci::cdi {
namespace {

using nlohmann::json;

// The parts of a spec build_spec makes that the edits touch.
json base_spec() {
  return json::parse(R"({
    "process": {"env": ["PATH=/bin", "MODE=host"], "user": {"uid": 0, "gid": 0, "additionalGids": [10]}},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/data/sub", "type": "bind", "source": "/srv/sub", "options": ["rbind"]},
               {"destination": "/etc/hosts", "type": "bind", "source": "/pod/hosts", "options": ["rbind"]}],
    "linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}]}}
  })");
}

class CdiEdits : public CdiDir {
 protected:
  // Writes the spec file and injects `names` into `oci`.
  void inject(json& oci, const std::string& spec_json, const std::vector<std::string>& names) {
    write("cdi/vendor.json", spec_json);
    const Catalog c = scan({dir_ + "/cdi"});
    ASSERT_TRUE(c.problems.empty()) << c.problems[0].reason;
    std::vector<Request> requests;
    for (std::size_t i = 0; i < names.size(); ++i)
      requests.push_back({names[i], "CDI_devices[" + std::to_string(i) + "]"});
    apply_edits(oci, resolve(c, requests));
  }
  // The error injecting `names` gives; `oci` must come out unchanged.
  Error refused(const std::string& spec_json, const std::vector<std::string>& names) {
    json oci = base_spec();
    Error e = thrown([&] { inject(oci, spec_json, names); });
    EXPECT_EQ(oci, base_spec()) << "changed by a refused injection";
    return e;
  }
};

std::string spec_of(const std::string& devices, const std::string& spec_edits = "") {
  return R"({"cdiVersion": "0.7.0", "kind": "vendor.com/dev", "devices": [)" + devices + "]" +
         (spec_edits.empty() ? "" : R"(, "containerEdits": )" + spec_edits) + "}";
}

std::string device(const std::string& name, const std::string& edits) {
  return R"({"name": ")" + name + R"(", "containerEdits": )" + edits + "}";
}

TEST_F(CdiEdits, EnvIsAddedAndOverridesTheSameName) {
  json oci = base_spec();
  inject(oci, spec_of(device("a", R"({"env": ["MODE=cdi", "GPU=0"]})")), {"vendor.com/dev=a"});
  EXPECT_EQ(oci["process"]["env"], json({"PATH=/bin", "MODE=cdi", "GPU=0"}));
}

TEST_F(CdiEdits, ADeviceNodeReadFromTheHostWithItsCgroupRule) {
  json oci = base_spec();
  oci["process"]["user"] = {{"uid", 1000}, {"gid", 2000}};
  inject(oci,
         spec_of(device("null", R"({"deviceNodes": [{"path": "/dev/cdi-null", "hostPath": "/dev/null"}]})") + "," +
                 device("rw", R"({"deviceNodes": [{"path": "/dev/zero", "permissions": "rw", "fileMode": 33206,
                                                   "uid": 0, "gid": 5}]})") +
                 "," + device("given", R"({"deviceNodes": [{"path": "/dev/not-on-this-host", "type": "b",
                                                          "major": 259, "minor": 1}]})")),
         {"vendor.com/dev=null", "vendor.com/dev=rw", "vendor.com/dev=given"});
  EXPECT_EQ(oci["linux"]["devices"],
            json::parse(R"([{"path": "/dev/cdi-null", "type": "c", "major": 1, "minor": 3, "uid": 1000, "gid": 2000},
                            {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 438, "uid": 0, "gid": 5},
                            {"path": "/dev/not-on-this-host", "type": "b", "major": 259, "minor": 1,
                             "uid": 1000, "gid": 2000}])"));
  EXPECT_EQ(oci["linux"]["resources"]["devices"],
            json::parse(R"([{"allow": false, "access": "rwm"},
                            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"},
                            {"allow": true, "type": "b", "major": 259, "minor": 1, "access": "rwm"}])"));
}

TEST_F(CdiEdits, AHostNodeThatIsMissingOrNotADeviceIsRefused) {
  Error e = refused(spec_of(device("gone", R"({"deviceNodes": [{"path": "/dev/crius-cdi-absent"}]})")),
                    {"vendor.com/dev=gone"});
  EXPECT_EQ(e.code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(mentions(e, "vendor.com/dev=gone")) << e.what();
  EXPECT_TRUE(mentions(e, "/dev/crius-cdi-absent")) << e.what();
  e = refused(spec_of(device("dir", R"({"deviceNodes": [{"path": "/dev/x", "hostPath": "/tmp"}]})")),
              {"vendor.com/dev=dir"});
  EXPECT_TRUE(mentions(e, "/tmp is not a device node")) << e.what();
  e = refused(spec_of(device("blk", R"({"deviceNodes": [{"path": "/dev/null", "type": "b"}]})")),
              {"vendor.com/dev=blk"});
  EXPECT_TRUE(mentions(e, "of type b but host node /dev/null is of type c")) << e.what();
}

TEST_F(CdiEdits, MountsReplaceTheSameDestinationAndParentsComeFirst) {
  json oci = base_spec();
  inject(oci, spec_of(device("m", R"({"mounts": [
           {"hostPath": "/srv/data", "containerPath": "/data", "options": ["ro", "bind"]},
           {"hostPath": "/srv/hosts", "containerPath": "/etc/hosts/", "type": "bind", "options": ["bind"]}]})")),
         {"vendor.com/dev=m"});
  EXPECT_EQ(oci["mounts"], json::parse(R"([
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "source": "/srv/data", "options": ["ro", "bind"]},
    {"destination": "/data/sub", "type": "bind", "source": "/srv/sub", "options": ["rbind"]},
    {"destination": "/etc/hosts/", "source": "/srv/hosts", "type": "bind", "options": ["bind"]}])"));
}

TEST_F(CdiEdits, HooksGoUnderTheirKind) {
  json oci = base_spec();
  inject(oci, spec_of(device("h", R"({"hooks": [
           {"hookName": "createContainer", "path": "/bin/a", "args": ["a", "1"], "env": ["X=1"], "timeout": 3},
           {"hookName": "poststop", "path": "/bin/b"},
           {"hookName": "createContainer", "path": "/bin/c"}]})")),
         {"vendor.com/dev=h"});
  EXPECT_EQ(oci["hooks"], json::parse(R"({
    "createContainer": [{"path": "/bin/a", "args": ["a", "1"], "env": ["X=1"], "timeout": 3}, {"path": "/bin/c"}],
    "poststop": [{"path": "/bin/b"}]})"));
}

TEST_F(CdiEdits, AdditionalGidsOnceEachAndIntelRdt) {
  json oci = base_spec();
  inject(oci,
         spec_of(device("g", R"({"additionalGids": [10, 0, 44, 44], "intelRdt": {"closID": "gold", "enableMBM": true}})") +
                 "," + device("h", R"({"additionalGids": [45, 44]})")),
         {"vendor.com/dev=g", "vendor.com/dev=h"});
  EXPECT_EQ(oci["process"]["user"]["additionalGids"], json({10, 44, 45}));
  EXPECT_EQ(oci["linux"]["intelRdt"], json::parse(R"({"closID": "gold", "enableMBM": true})"));
}

TEST_F(CdiEdits, TheSpecWideEditsComeOnceWithItsFirstDevice) {
  json oci = base_spec();
  inject(oci,
         spec_of(device("a", R"({"env": ["A=1"]})") + "," + device("b", R"({"env": ["B=1"]})") + "," +
                     device("unused", R"({"env": ["U=1"]})"),
                 R"({"env": ["DRIVER=5"], "hooks": [{"hookName": "createRuntime", "path": "/bin/ldconfig"}]})"),
         {"vendor.com/dev=b", "vendor.com/dev=a", "vendor.com/dev=b"});
  EXPECT_EQ(oci["process"]["env"], json({"PATH=/bin", "MODE=host", "DRIVER=5", "B=1", "A=1"}));
  EXPECT_EQ(oci["hooks"]["createRuntime"].size(), 1u);
}

TEST_F(CdiEdits, NoRequestNoChange) {
  json oci = base_spec();
  inject(oci, spec_of(device("a", R"({"env": ["A=1"]})"), R"({"env": ["DRIVER=5"]})"), {});
  EXPECT_EQ(oci, base_spec());
}

TEST_F(CdiEdits, TwoDevicesThatDisagreeConflict) {
  struct Case {
    const char* what;
    std::string a, b;
  };
  const std::vector<Case> cases = {
      {"env GPU", R"({"env": ["GPU=0"]})", R"({"env": ["GPU=1"]})"},
      {"device node /dev/gpu", R"({"deviceNodes": [{"path": "/dev/gpu", "hostPath": "/dev/null"}]})",
       R"({"deviceNodes": [{"path": "/dev/gpu", "hostPath": "/dev/zero"}]})"},
      {"mount at /opt/lib", R"({"mounts": [{"hostPath": "/a", "containerPath": "/opt/lib", "options": ["bind"]}]})",
       R"({"mounts": [{"hostPath": "/b", "containerPath": "/opt/lib/", "options": ["bind"]}]})"},
      {"intelRdt", R"({"intelRdt": {"closID": "gold"}})", R"({"intelRdt": {"closID": "silver"}})"},
  };
  for (const auto& c : cases) {
    const Error e = refused(spec_of(device("one", c.a) + "," + device("two", c.b)), {"vendor.com/dev=one", "vendor.com/dev=two"});
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << c.what;
    EXPECT_TRUE(mentions(e, "CDI devices vendor.com/dev=one and vendor.com/dev=two conflict")) << e.what();
    EXPECT_TRUE(mentions(e, c.what)) << e.what();
  }
  // The same value twice is no conflict.
  json oci = base_spec();
  inject(oci,
         spec_of(device("one", R"({"env": ["GPU=0"], "deviceNodes": [{"path": "/dev/n", "hostPath": "/dev/null"}]})") +
                 "," + device("two", R"({"env": ["GPU=0"], "deviceNodes": [{"path": "/dev/n", "hostPath": "/dev/null"}]})")),
         {"vendor.com/dev=one", "vendor.com/dev=two"});
  EXPECT_EQ(oci["linux"]["devices"].size(), 1u);
  EXPECT_EQ(oci["process"]["env"], json({"PATH=/bin", "MODE=host", "GPU=0"}));
}

TEST_F(CdiEdits, UnknownDevicesAreNotFoundAndNamed) {
  const std::string s = spec_of(device("a", R"({"env": ["A=1"]})"));
  Error e = refused(s, {"vendor.com/dev=a", "vendor.com/dev=b", "other.com/x=y"});
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  EXPECT_TRUE(mentions(e, "vendor.com/dev=b (CDI_devices[1])")) << e.what();
  EXPECT_TRUE(mentions(e, "other.com/x=y (CDI_devices[2])")) << e.what();
  EXPECT_TRUE(mentions(e, dir_ + "/cdi")) << e.what();
  EXPECT_FALSE(mentions(e, "vendor.com/dev=a")) << e.what();

  e = refused(s, {"vendor.com/dev=a", "just-a-name"});
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(mentions(e, "CDI_devices[1]: CDI device name \"just-a-name\" is not fully qualified")) << e.what();
}

}  // namespace
}  // namespace crius::oci::cdi
