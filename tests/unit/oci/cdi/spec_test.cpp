// CDI spec files: JSON and YAML, cdiVersion 0.3.0 to 1.0.0, every field of
// the model, and the refusals (unknown version or field, a field newer than
// the declared version, bad names and paths).
#include <gtest/gtest.h>

#include "oci/cdi/spec.h"
#include "tests/unit/oci/cdi/cdi_fixture.h"

namespace crius::oci::cdi {
namespace {

const char* kFullJson = R"({
  "cdiVersion": "0.7.0",
  "kind": "example.com/gpu",
  "annotations": {"owner": "team-a"},
  "devices": [
    {
      "name": "gpu0",
      "annotations": {"model": "x1"},
      "containerEdits": {
        "env": ["GPU=0"],
        "deviceNodes": [{"path": "/dev/gpu0", "hostPath": "/dev/real-gpu0", "type": "c", "major": 195,
                         "minor": 7, "fileMode": 438, "permissions": "rw", "uid": 1000, "gid": 44}],
        "mounts": [{"hostPath": "/usr/lib/libgpu.so", "containerPath": "/usr/lib/libgpu.so",
                    "type": "bind", "options": ["ro", "nosuid", "bind"]}],
        "hooks": [{"hookName": "createContainer", "path": "/usr/bin/gpu-hook", "args": ["gpu-hook", "setup"],
                   "env": ["DEBUG=1"], "timeout": 5}],
        "intelRdt": {"closID": "gold", "l3CacheSchema": "L3:0=ff", "memBwSchema": "MB:0=50", "enableCMT": true},
        "additionalGids": [44, 0]
      }
    },
    {"name": "1", "containerEdits": {"env": ["GPU=1"]}}
  ],
  "containerEdits": {"env": ["GPU_DRIVER=5"], "additionalGIDs": [45]}
})";

TEST(CdiSpec, JsonWithEveryField) {
  const Spec s = parse_spec(kFullJson, false);
  EXPECT_EQ(s.version, "0.7.0");
  EXPECT_EQ(s.kind, "example.com/gpu");
  EXPECT_EQ(s.vendor, "example.com");
  EXPECT_EQ(s.device_class, "gpu");
  EXPECT_EQ(s.annotations, (std::map<std::string, std::string>{{"owner", "team-a"}}));
  ASSERT_EQ(s.devices.size(), 2u);
  const Device& d = s.devices[0];
  EXPECT_EQ(d.name, "gpu0");
  EXPECT_EQ(d.annotations.at("model"), "x1");
  EXPECT_EQ(d.edits.env, std::vector<std::string>{"GPU=0"});
  ASSERT_EQ(d.edits.device_nodes.size(), 1u);
  const DeviceNode& n = d.edits.device_nodes[0];
  EXPECT_EQ(n.path, "/dev/gpu0");
  EXPECT_EQ(n.host_path, "/dev/real-gpu0");
  EXPECT_EQ(n.type, "c");
  EXPECT_EQ(n.major, 195);
  EXPECT_EQ(n.minor, 7);
  EXPECT_EQ(n.file_mode, 0666u);
  EXPECT_EQ(n.permissions, "rw");
  EXPECT_EQ(n.uid, 1000u);
  EXPECT_EQ(n.gid, 44u);
  ASSERT_EQ(d.edits.mounts.size(), 1u);
  EXPECT_EQ(d.edits.mounts[0], (Mount{"/usr/lib/libgpu.so", "/usr/lib/libgpu.so", "bind", {"ro", "nosuid", "bind"}}));
  ASSERT_EQ(d.edits.hooks.size(), 1u);
  EXPECT_EQ(d.edits.hooks[0], (Hook{"createContainer", "/usr/bin/gpu-hook", {"gpu-hook", "setup"}, {"DEBUG=1"}, 5}));
  ASSERT_TRUE(d.edits.intel_rdt);
  EXPECT_EQ(*d.edits.intel_rdt, (IntelRdt{"gold", "L3:0=ff", "MB:0=50", true, false}));
  EXPECT_EQ(d.edits.additional_gids, (std::vector<uint32_t>{44, 0}));
  EXPECT_EQ(s.devices[1].name, "1");
  // Field names match without regard to case, as the reference decoder's do.
  EXPECT_EQ(s.edits.additional_gids, std::vector<uint32_t>{45});
  EXPECT_EQ(s.edits.env, std::vector<std::string>{"GPU_DRIVER=5"});
}

TEST(CdiSpec, YamlGivesTheSameModelAsJson) {
  const char* yaml = R"(---
cdiVersion: "0.7.0"
kind: example.com/gpu
annotations:
  owner: team-a
devices:
  - name: gpu0
    annotations: {model: x1}
    containerEdits:
      env: [GPU=0]
      deviceNodes:
        - path: /dev/gpu0
          hostPath: /dev/real-gpu0
          type: c
          major: 195
          minor: 7
          fileMode: 0666
          permissions: rw
          uid: 1000
          gid: 44
      mounts:
        - hostPath: /usr/lib/libgpu.so
          containerPath: /usr/lib/libgpu.so
          type: bind
          options: [ro, nosuid, bind]
      hooks:
        - hookName: createContainer
          path: /usr/bin/gpu-hook
          args: [gpu-hook, setup]
          env: [DEBUG=1]
          timeout: 5
      intelRdt:
        closID: gold
        l3CacheSchema: "L3:0=ff"
        memBwSchema: "MB:0=50"
        enableCMT: true
      additionalGids: [44, 0]
  - name: 1
    containerEdits:
      env: [GPU=1]
containerEdits:
  env: [GPU_DRIVER=5]
  additionalGIDs: [45]
)";
  EXPECT_EQ(parse_spec(yaml, true), parse_spec(kFullJson, false));
}

TEST(CdiSpec, EachVersionFromThreeToEightAndOneLoads) {
  for (const char* v : {"0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0"}) {
    const std::string text = std::string(R"({"cdiVersion": ")") + v +
                             R"(", "kind": "vendor.com/dev", "devices": [{"name": "a", "containerEdits": )"
                             R"({"deviceNodes": [{"path": "/dev/a"}]}}]})";
    EXPECT_EQ(parse_spec(text, false).version, v);
    EXPECT_EQ(parse_spec(std::string("cdiVersion: ") + v +
                             "\nkind: vendor.com/dev\ndevices:\n- name: a\n  containerEdits:\n    env: [A=1]\n",
                         true)
                  .devices.at(0)
                  .edits.env,
              std::vector<std::string>{"A=1"});
  }
  EXPECT_EQ(supported_versions().front(), "0.3.0");
}

std::string spec_with(const std::string& version, const std::string& device, const std::string& extra = "") {
  return R"({"cdiVersion": ")" + version + R"(", "kind": "vendor.com/dev", "devices": [)" + device + "]" + extra + "}";
}

TEST(CdiSpec, AFieldNewerThanTheDeclaredVersionIsRefused) {
  struct Case {
    std::string device, extra, needs, why;
  };
  const std::vector<Case> cases = {
      {R"({"name": "a", "containerEdits": {"mounts": [{"hostPath": "/a", "containerPath": "/a", "type": "bind"}]}})",
       "", "0.4.0", "a mount type"},
      {R"({"name": "a", "containerEdits": {"deviceNodes": [{"path": "/dev/a", "hostPath": "/dev/b"}]}})", "", "0.5.0",
       "hostPath"},
      {R"({"name": "0a", "containerEdits": {"env": ["A=1"]}})", "", "0.5.0", "does not start with a letter"},
      {R"({"name": "a", "annotations": {"k": "v"}, "containerEdits": {"env": ["A=1"]}})", "", "0.6.0", "annotations"},
      {R"({"name": "a", "containerEdits": {"env": ["A=1"]}})", R"(, "annotations": {"k": "v"})", "0.6.0",
       "annotations"},
      {R"({"name": "a", "containerEdits": {"intelRdt": {"closID": "c"}}})", "", "0.7.0", "intelRdt"},
      {R"({"name": "a", "containerEdits": {"env": ["A=1"]}})", R"(, "containerEdits": {"additionalGids": [5]})",
       "0.7.0", "additionalGids"},
  };
  for (const auto& c : cases) {
    const std::string below = "0." + std::to_string(c.needs[2] - '0' - 1) + ".0";
    const Error e = thrown([&] { parse_spec(spec_with(below, c.device, c.extra), false); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_TRUE(mentions(e, "needs cdiVersion " + c.needs + " or later, but declares " + below)) << e.what();
    EXPECT_TRUE(mentions(e, c.why)) << e.what();
    EXPECT_NO_THROW(parse_spec(spec_with(c.needs, c.device, c.extra), false)) << c.device;
  }
  // A dot in the class is 0.6.0's.
  const std::string dotted = R"({"cdiVersion": "0.5.0", "kind": "vendor.com/dev.v2", "devices": [)"
                             R"({"name": "a", "containerEdits": {"env": ["A=1"]}}]})";
  EXPECT_TRUE(mentions(thrown([&] { parse_spec(dotted, false); }), "needs cdiVersion 0.6.0"));
}

TEST(CdiSpec, RefusalsNameTheField) {
  const std::string ok_device = R"({"name": "a", "containerEdits": {"env": ["A=1"]}})";
  struct Case {
    std::string text, said;
  };
  const std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {spec_with("0.2.0", ok_device), "cdiVersion \"0.2.0\" is not supported"},
      {spec_with("1.1.0", ok_device), "cdiVersion \"1.1.0\" is not supported"},
      {R"({"kind": "vendor.com/dev", "devices": [{"name": "a", "containerEdits": {"env": ["A=1"]}}]})",
       "cdiVersion is required"},
      {R"({"cdiVersion": "0.8.0", "kind": "dev", "devices": [{"name": "a", "containerEdits": {"env": ["A=1"]}}]})",
       "not of the form vendor/class"},
      {R"({"cdiVersion": "0.8.0", "kind": "vendor.com/dev"})", "at least one device"},
      {spec_with("0.8.0", ok_device + "," + ok_device), "device \"a\" is defined twice"},
      {spec_with("0.8.0", R"({"name": "a"})"), "has no containerEdits"},
      {spec_with("0.8.0", R"({"name": "-a", "containerEdits": {"env": ["A=1"]}})"), "devices[0]: device name"},
      {spec_with("0.8.0", ok_device, R"(, "vendorExtras": 1)"), "vendorExtras: unknown field"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"env": ["A"]}})"), "devices[0].containerEdits.env"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"deviceNodes": [{"path": "dev/a"}]}})"),
       "devices[0].containerEdits.deviceNodes[0]: path \"dev/a\" must be an absolute path"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"deviceNodes": [{"path": "/dev/a", "type": "x"}]}})"),
       "type \"x\" must be b, c, u or p"},
      {spec_with("0.8.0",
                 R"({"name": "a", "containerEdits": {"deviceNodes": [{"path": "/dev/a", "permissions": "rx"}]}})"),
       "permissions \"rx\""},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"deviceNodes": [{"path": "/dev/a", "major": "1"}]}})"),
       "deviceNodes[0].major: expected an integer"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"mounts": [{"hostPath": "/a"}]}})"),
       "containerPath is required"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"hooks": [{"hookName": "prestop", "path": "/x"}]}})"),
       "hookName \"prestop\" is not an OCI hook"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"hooks": [{"hookName": "poststop", "path": "x"}]}})"),
       "path \"x\" must be an absolute path"},
      {spec_with("0.8.0",
                 R"({"name": "a", "containerEdits": {"hooks": [{"hookName": "poststop", "path": "/x", "timeout": 0}]}})"),
       "timeout: must be between 1"},
      {spec_with("0.8.0", R"({"name": "a", "containerEdits": {"intelRdt": {"closID": "a/b"}}})"), "closID \"a/b\""},
  };
  for (const auto& c : cases) {
    const Error e = thrown([&] { parse_spec(c.text, false); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << c.text;
    EXPECT_TRUE(mentions(e, c.said)) << c.text << "\n  said: " << e.what();
  }
  EXPECT_TRUE(mentions(thrown([] { parse_spec("devices: [a\n", true); }), "not valid YAML"));
  EXPECT_TRUE(mentions(thrown([] { parse_spec("cdiVersion: 0.8.0\nkind: v.com/d\ndevices: [{name: a, containerEdits: "
                                               "{deviceNodes: [{path: /dev/a, major: many}]}}]\n",
                                               true); }),
                       "major: expected an integer"));
}

using CdiSpecFile = CdiDir;

TEST_F(CdiSpecFile, TheExtensionPicksTheSyntax) {
  const std::string json = write("a.json", R"({"cdiVersion": "0.3.0", "kind": "v.com/d", "devices": [)"
                                           R"({"name": "x", "containerEdits": {"env": ["A=1"]}}]})");
  EXPECT_EQ(read_spec(json).path, json);
  const std::string yaml = write("b.yaml", "cdiVersion: 0.3.0\nkind: v.com/d\ndevices:\n- name: x\n"
                                           "  containerEdits: {env: [A=1]}\n");
  EXPECT_EQ(read_spec(yaml).devices.at(0).name, "x");
  const std::string txt = write("c.txt", "");
  EXPECT_TRUE(mentions(thrown([&] { read_spec(txt); }), "not a .json or .yaml file"));
  EXPECT_EQ(thrown([&] { read_spec(dir_ + "/missing.json"); }).code(), ErrorCode::not_found);
}

}  // namespace
}  // namespace crius::oci::cdi
