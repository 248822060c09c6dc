// Loading the config: defaults, the main file, drop-ins, flags, how layers
// merge, errors that name their source, and printing it back.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ConfLoad : public ConfFixture {};

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST_F(ConfLoad, DefaultsForEveryKey) {
  Config c = load_with();
  EXPECT_EQ(c.root, "/var/lib/crius");
  EXPECT_EQ(c.state, "/run/crius");
  EXPECT_EQ(c.listen, "/run/crius/crius.sock");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.cgroup_driver, "cgroupfs");
  EXPECT_EQ(c.network.cni_config_dir, "/etc/cni/net.d");
  EXPECT_EQ(c.network.cni_plugin_dirs, (std::vector<std::string>{"/opt/cni/bin", "/usr/lib/cni"}));
  EXPECT_TRUE(c.image.registries.empty());
  EXPECT_EQ(c.image.short_name_search, std::vector<std::string>{"docker.io"});
  EXPECT_EQ(c.image.pull_progress_timeout, milliseconds(60'000));
  EXPECT_EQ(c.image.max_parallel_layers, 3);
  EXPECT_TRUE(c.image.pinned_images.empty());
  EXPECT_EQ(c.network.cni_plugin_timeout, milliseconds(60'000));
  EXPECT_EQ(c.runtime.shm_size, 64 << 20);
  EXPECT_EQ(c.runtime.default_handler, "crius");
  EXPECT_EQ(c.runtime.handlers, (std::map<std::string, Handler>{
                                    {"crius", {"builtin", ""}}, {"runc", {"oci", "runc"}}, {"crun", {"oci", "crun"}}}));
  EXPECT_EQ(c.streaming.address, "127.0.0.1");
  EXPECT_EQ(c.streaming.port, 0);
  EXPECT_TRUE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.address, "127.0.0.1:9090");
}

TEST_F(ConfLoad, CgroupDriverDefaultFollowsTheInitSystem) {
  EXPECT_EQ(load_with({}, true).cgroup_driver, "systemd");
  EXPECT_EQ(load_with({}, false).cgroup_driver, "cgroupfs");
  write(main_, "cgroup_driver: cgroupfs\n");
  EXPECT_EQ(load_with({}, true).cgroup_driver, "cgroupfs");
  EXPECT_EQ(load_with({"--cgroup-driver=systemd"}, false).cgroup_driver, "systemd");
}

TEST_F(ConfLoad, SystemdProbeLooksForRunSystemdSystem) {
  EXPECT_EQ(systemd_is_init(), fs::is_directory("/run/systemd/system"));
}

TEST_F(ConfLoad, MainFileOverridesDefaults) {
  write(main_,
        "root: /data/crius\n"
        "log_level: debug\n"
        "image:\n"
        "  max_parallel_layers: 8\n"
        "  pull_progress_timeout: 2m30s\n"
        "metrics:\n"
        "  enabled: false\n");
  Config c = load_with();
  EXPECT_EQ(c.root, "/data/crius");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.image.max_parallel_layers, 8);
  EXPECT_EQ(c.image.pull_progress_timeout, milliseconds(150'000));
  EXPECT_FALSE(c.metrics.enabled);
  EXPECT_EQ(c.state, "/run/crius");  // untouched keys keep their defaults
  EXPECT_EQ(c.image.short_name_search, std::vector<std::string>{"docker.io"});
}

TEST_F(ConfLoad, PodAndImageKeys) {
  write(main_,
        "network:\n  cni_plugin_timeout: 5s\n"
        "image:\n  pinned_images: [registry.k8s.io/pause:3.9]\n"
        "runtime:\n  shm_size: 128Mi\n");
  Config c = load_with();
  EXPECT_EQ(c.network.cni_plugin_timeout, milliseconds(5'000));
  EXPECT_EQ(c.image.pinned_images, std::vector<std::string>{"registry.k8s.io/pause:3.9"});
  EXPECT_EQ(c.runtime.shm_size, 128 << 20);
  EXPECT_EQ(load_with({"--runtime-shm-size=1G"}).runtime.shm_size, 1000'000'000);
  EXPECT_EQ(load_with({"--runtime-shm-size=65536"}).runtime.shm_size, 65536);
  EXPECT_EQ(load_with({"--network-cni-plugin-timeout=2m"}).network.cni_plugin_timeout, milliseconds(120'000));
}

TEST_F(ConfLoad, EmptyAndCommentOnlyFilesAreFine) {
  write(main_, "# nothing here\n");
  write(dropins_ + "/10-empty.yaml", "");
  write(dropins_ + "/20-null-section.yaml", "network:\n");
  EXPECT_EQ(load_with().network.cni_config_dir, "/etc/cni/net.d");
}

TEST_F(ConfLoad, DropInsApplyInNameOrderAndOnlyYamlFiles) {
  write(main_, "log_level: error\nroot: /main\n");
  write(dropins_ + "/20-b.yaml", "log_level: warn\n");
  write(dropins_ + "/10-a.yaml", "log_level: debug\nstate: /a\n");
  write(dropins_ + "/30-c.yml", "log_level: trace\n");
  write(dropins_ + "/40-d.txt", "log_level: trace\n");
  write(dropins_ + "/50-e.yaml.bak", "log_level: trace\n");
  fs::create_directories(dropins_ + "/60-dir.yaml");
  Config c = load_with();
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.state, "/a");
  EXPECT_EQ(c.listen, "/a/crius.sock");
  EXPECT_EQ(c.root, "/main");
}

TEST_F(ConfLoad, DropInOrderIsByteWise) {
  write(dropins_ + "/a.yaml", "log_level: debug\n");
  write(dropins_ + "/B.yaml", "log_level: warn\n");  // 'B' sorts before 'a'
  EXPECT_EQ(load_with().log_level, "debug");
}

TEST_F(ConfLoad, ConfigDirFlagChoosesTheDropInDirectory) {
  write(dropins_ + "/10.yaml", "log_level: warn\n");
  write(dir_ + "/other/10.yaml", "log_level: debug\n");
  EXPECT_EQ(load_with({"--config-dir", dir_ + "/other"}).log_level, "debug");
  EXPECT_EQ(load_with({"--config-dir", dir_ + "/missing"}).log_level, "info");
}

TEST_F(ConfLoad, MissingMainFileMeansDefaultsUnlessExplicit) {
  fs::remove(main_);
  Options o;
  o.config_file = main_;
  o.config_dir = dropins_;
  write(dropins_ + "/10.yaml", "log_level: debug\n");
  EXPECT_EQ(load(o, +[] { return false; }).log_level, "debug");

  std::string e = error();
  EXPECT_CONTAINS(e, main_ + ": ");
  EXPECT_CONTAINS(e, "No such file or directory");
}

TEST_F(ConfLoad, SectionsMergeKeyByKey) {
  write(main_, "network:\n  cni_config_dir: /main/net.d\n  cni_plugin_dirs: [/main/bin]\n");
  write(dropins_ + "/10.yaml", "network:\n  cni_config_dir: /dropin/net.d\n");
  Config c = load_with();
  EXPECT_EQ(c.network.cni_config_dir, "/dropin/net.d");
  EXPECT_EQ(c.network.cni_plugin_dirs, std::vector<std::string>{"/main/bin"});
}

TEST_F(ConfLoad, ListsReplace) {
  write(main_, "image:\n  short_name_search: [docker.io, quay.io]\n  registries: [{prefix: a.io}, {prefix: b.io}]\n");
  write(dropins_ + "/10.yaml", "image:\n  short_name_search: [ghcr.io]\n  registries: [{prefix: c.io}]\n");
  Config c = load_with();
  EXPECT_EQ(c.image.short_name_search, std::vector<std::string>{"ghcr.io"});
  ASSERT_EQ(c.image.registries.size(), 1u);
  EXPECT_EQ(c.image.registries[0].prefix, "c.io");
}

TEST_F(ConfLoad, HandlersMergeByName) {
  write(main_, "runtime:\n  handlers:\n    kata: {type: oci, path: /usr/bin/kata-runtime}\n");
  write(dropins_ + "/10.yaml",
        "runtime:\n"
        "  default_handler: runc\n"
        "  handlers:\n"
        "    runc:\n"
        "      path: /usr/local/sbin/runc\n"
        "    crun: ~\n");  // null: left as it was
  Config c = load_with({"--runtime-handlers={youki: {type: oci, path: youki}}"});
  EXPECT_EQ(c.runtime.handlers, (std::map<std::string, Handler>{{"crius", {"builtin", ""}},
                                                                {"runc", {"oci", "/usr/local/sbin/runc"}},
                                                                {"crun", {"oci", "crun"}},
                                                                {"kata", {"oci", "/usr/bin/kata-runtime"}},
                                                                {"youki", {"oci", "youki"}}}));
  EXPECT_EQ(c.runtime.default_handler, "runc");
}

TEST_F(ConfLoad, FlagsOverrideFiles) {
  write(main_, "root: /main\nlog_level: debug\nstreaming:\n  port: 1000\n");
  write(dropins_ + "/10.yaml", "root: /dropin\n");
  Config c = load_with({"--root", "/flag", "--streaming-port=2000", "--log-level=warn", "--log-level=error"});
  EXPECT_EQ(c.root, "/flag");
  EXPECT_EQ(c.streaming.port, 2000);
  EXPECT_EQ(c.log_level, "error");  // the last of a repeated flag wins
}

TEST_F(ConfLoad, ListFlagsTakeCommasOrYaml) {
  EXPECT_EQ(load_with({"--network-cni-plugin-dirs=/a,/b"}).network.cni_plugin_dirs,
            (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(load_with({"--cni-plugin-dirs", "/c, /d"}).network.cni_plugin_dirs,
            (std::vector<std::string>{"/c", "/d"}));
  EXPECT_EQ(load_with({"--cni-plugin-dirs=[/e, /f]"}).network.cni_plugin_dirs,
            (std::vector<std::string>{"/e", "/f"}));
  EXPECT_EQ(load_with({"--image-short-name-search=docker.io,quay.io:443"}).image.short_name_search,
            (std::vector<std::string>{"docker.io", "quay.io:443"}));
  EXPECT_TRUE(load_with({"--image-short-name-search="}).image.short_name_search.empty());
  EXPECT_EQ(load_with({"--cni-config-dir=/x/net.d"}).network.cni_config_dir, "/x/net.d");
}

TEST_F(ConfLoad, YamlFlagValues) {
  Config c = load_with({"--image-registries=[{prefix: \"localhost:5000\", insecure: true}]",
                        "--runtime-handlers={kata: {type: oci, path: /usr/bin/kata}}",
                        "--image-pull-progress-timeout=90", "--metrics-enabled=false",
                        "--metrics-address=[::1]:9100"});
  ASSERT_EQ(c.image.registries.size(), 1u);
  EXPECT_EQ(c.image.registries[0].prefix, "localhost:5000");
  EXPECT_TRUE(c.image.registries[0].insecure);
  EXPECT_EQ(c.runtime.handlers.at("kata"), (Handler{"oci", "/usr/bin/kata"}));
  EXPECT_EQ(c.runtime.handlers.size(), 4u);
  EXPECT_EQ(c.image.pull_progress_timeout, milliseconds(90'000));
  EXPECT_FALSE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.address, "[::1]:9100");
}

TEST_F(ConfLoad, ListenAcceptsUnixSchemeAndDefaultsBesideState) {
  EXPECT_EQ(load_with({"--listen=unix:///x/y.sock"}).listen, "/x/y.sock");
  write(main_, "listen: unix:///run/k.sock\n");
  EXPECT_EQ(load_with().listen, "/run/k.sock");
  EXPECT_EQ(load_with({"--listen=", "--state=/s"}).listen, "/s/crius.sock");
}

TEST_F(ConfLoad, NullValueLeavesTheKeyAsItWas) {
  write(main_, "root: /main\n");
  write(dropins_ + "/10.yaml", "root:\nimage:\n  max_parallel_layers: ~\n");
  Config c = load_with();
  EXPECT_EQ(c.root, "/main");
  EXPECT_EQ(c.image.max_parallel_layers, 3);
}

TEST_F(ConfLoad, UnknownKeyAtTopLevel) {
  write(main_, "root: /r\nrot: /r\n");
  EXPECT_EQ(error(), main_ + ": rot: unknown key");
}

TEST_F(ConfLoad, UnknownKeyNested) {
  write(dropins_ + "/10-net.yaml", "network:\n  cni_dirs: [/x]\n");
  EXPECT_EQ(error(), dropins_ + "/10-net.yaml: network.cni_dirs: unknown key");
  write(dropins_ + "/10-net.yaml", "image:\n  registries:\n    - prefix: a\n      mirrors: [{location: m, tls: false}]\n");
  EXPECT_EQ(error(), dropins_ + "/10-net.yaml: image.registries[0].mirrors[0].tls: unknown key");
  write(dropins_ + "/10-net.yaml", "runtime:\n  handlers:\n    kata: {type: oci, binary: /k}\n");
  EXPECT_EQ(error(), dropins_ + "/10-net.yaml: runtime.handlers.kata.binary: unknown key");
}

TEST_F(ConfLoad, WrongTypes) {
  write(main_, "image:\n  max_parallel_layers: abc\n");
  EXPECT_EQ(error(), main_ + ": image.max_parallel_layers: expected an integer, got \"abc\"");
  write(main_, "root: [/a]\n");
  EXPECT_EQ(error(), main_ + ": root: expected a string, got a list");
  write(main_, "network: /etc/cni\n");
  EXPECT_EQ(error(), main_ + ": network: expected a mapping, got \"/etc/cni\"");
  write(main_, "network:\n  cni_plugin_dirs: /opt/cni/bin\n");
  EXPECT_EQ(error(), main_ + ": network.cni_plugin_dirs: expected a list of strings, got \"/opt/cni/bin\"");
  write(main_, "metrics:\n  enabled: maybe\n");
  EXPECT_EQ(error(), main_ + ": metrics.enabled: expected true or false, got \"maybe\"");
  write(main_, "image:\n  pull_progress_timeout: soon\n");
  EXPECT_CONTAINS(error(), main_ + ": image.pull_progress_timeout: expected a duration");
  write(main_, "runtime:\n  shm_size: 64MB\n");
  EXPECT_EQ(error(), main_ + ": runtime.shm_size: expected a size such as 65536, 64Mi or 1G, got \"64MB\"");
  write(main_, "runtime:\n  shm_size: 100\n");
  EXPECT_EQ(error(), main_ + ": runtime.shm_size: must be at least 4096 bytes, got 100");
  write(main_, "network:\n  cni_plugin_timeout: 0\n");
  EXPECT_CONTAINS(error(), main_ + ": network.cni_plugin_timeout: must be greater than 0");
  write(main_, "streaming:\n  port: 99999999999\n");
  EXPECT_CONTAINS(error(), main_ + ": streaming.port: integer out of range");
  write(main_, "runtime:\n  handlers:\n    kata: oci\n");
  EXPECT_CONTAINS(error(), main_ + ": runtime.handlers.kata: expected a mapping");
  write(main_, "- root: /r\n");
  EXPECT_CONTAINS(error(), main_ + ": expected a mapping of config keys, got a list");
}

TEST_F(ConfLoad, DuplicateKey) {
  write(main_, "root: /a\nroot: /b\n");
  EXPECT_EQ(error(), main_ + ": root: duplicate key");
}

TEST_F(ConfLoad, MalformedYamlNamesFileAndLine) {
  write(dropins_ + "/10.yaml", "root: /r\nnetwork:\n  cni_config_dir: [/x\n");
  std::string e = error();
  EXPECT_CONTAINS(e, dropins_ + "/10.yaml:");
  EXPECT_CONTAINS(e, "invalid YAML");
  EXPECT_TRUE(e.starts_with(dropins_ + "/10.yaml:3:") || e.starts_with(dropins_ + "/10.yaml:4:")) << e;
  write(dropins_ + "/10.yaml", "root: /a\n---\nroot: /b\n");
  EXPECT_EQ(error(), dropins_ + "/10.yaml: expected one YAML document, found 2");
}

TEST_F(ConfLoad, FlagErrorsNameTheFlag) {
  EXPECT_EQ(error({"--image-max-parallel-layers=abc"}),
            "--image-max-parallel-layers: image.max_parallel_layers: expected an integer, got \"abc\"");
  EXPECT_EQ(error({"--image-max-parallel-layers=100"}),
            "--image-max-parallel-layers: image.max_parallel_layers: must be between 1 and 64, got 100");
  EXPECT_CONTAINS(error({"--runtime-handlers={kata: [}"}), "--runtime-handlers: invalid YAML");
  EXPECT_EQ(error({"--runtime-handlers={kata: {type: oci, bin: x}}"}),
            "--runtime-handlers: runtime.handlers.kata.bin: unknown key");
  EXPECT_EQ(error({"--streaming-port="}), "--streaming-port: missing value");
  EXPECT_EQ(error({"--cni-config-dir=rel"}), "--cni-config-dir: network.cni_config_dir: must be an absolute path, got \"rel\"");
}

TEST_F(ConfLoad, LoadRejectsAnUnknownFlagInOptions) {
  Options o = options();
  o.overrides.emplace_back("--bogus", "1");
  EXPECT_THROW(load(o), ConfigError);
}

TEST_F(ConfLoad, ToYamlRoundTrips) {
  write(main_,
        "root: /data/crius\n"
        "listen: unix:///run/crius-test/api.sock\n"
        "log_level: trace\n"
        "cgroup_driver: systemd\n"
        "network: {cni_plugin_dirs: [/opt/cni/bin]}\n"
        "image:\n"
        "  registries:\n"
        "    - prefix: docker.io\n"
        "      mirrors: [{location: mirror.gcr.io}, {location: \"10.0.0.1:5000/hub\", insecure: true}]\n"
        "    - {prefix: \"localhost:5000\", location: \"[::1]:5000\", insecure: true}\n"
        "  short_name_search: [docker.io, quay.io]\n"
        "  pull_progress_timeout: 1m30.5s\n"
        "  max_parallel_layers: 64\n"
        "runtime:\n"
        "  default_handler: kata\n"
        "  handlers: {kata: {type: oci, path: /usr/bin/kata}, crun: {path: /opt/crun}}\n"
        "streaming: {address: \"::\", port: 10010}\n"
        "metrics: {enabled: false, address: \"localhost:0\"}\n");
  Config first = load_with();
  std::string yaml = to_yaml(first);
  write(dir_ + "/printed.yaml", yaml);
  Options o;
  o.config_file = dir_ + "/printed.yaml";
  o.config_file_explicit = true;
  o.config_dir = dir_ + "/none";
  Config second = load(o, +[] { return false; });
  EXPECT_EQ(second, first) << yaml;
  EXPECT_EQ(to_yaml(second), yaml);

  Config defaults = load_with();
  write(dir_ + "/printed.yaml", to_yaml(defaults));
  EXPECT_EQ(load(o, +[] { return false; }), defaults);
}

TEST_F(ConfLoad, ToYamlPrintsEveryKeyInModelOrder) {
  std::string yaml = to_yaml(load_with());
  std::size_t at = 0;
  for (const char* key : {"root:", "state:", "listen:", "log_level:", "cgroup_driver:", "network:",
                          "cni_config_dir:", "cni_plugin_dirs:", "image:", "registries:", "short_name_search:",
                          "pull_progress_timeout: 1m", "max_parallel_layers:", "runtime:", "default_handler:",
                          "handlers:", "default_capabilities:", "pids_limit:", "streaming:", "address:", "port:", "metrics:", "enabled:", "address:"}) {
    std::size_t next = yaml.find(key, at);
    ASSERT_NE(next, std::string::npos) << key << " after offset " << at << " in\n" << yaml;
    at = next + 1;
  }
}

TEST_F(ConfLoad, ToJsonHasTheSameShape) {
  write(main_,
        "image:\n  registries: [{prefix: docker.io, mirrors: [{location: mirror.gcr.io}]}]\n"
        "  pull_progress_timeout: 90s\n");
  nlohmann::json j = to_json(load_with());
  EXPECT_EQ(j["root"], "/var/lib/crius");
  EXPECT_EQ(j["listen"], "/run/crius/crius.sock");
  EXPECT_EQ(j["cgroup_driver"], "cgroupfs");
  EXPECT_EQ(j["network"]["cni_plugin_dirs"], nlohmann::json({"/opt/cni/bin", "/usr/lib/cni"}));
  EXPECT_EQ(j["image"]["pull_progress_timeout"], "1m30s");
  EXPECT_EQ(j["image"]["max_parallel_layers"], 3);
  EXPECT_EQ(j["image"]["registries"][0],
            nlohmann::json({{"prefix", "docker.io"},
                            {"location", ""},
                            {"insecure", false},
                            {"mirrors", {{{"location", "mirror.gcr.io"}, {"insecure", false}}}}}));
  EXPECT_EQ(j["runtime"]["handlers"]["crius"], nlohmann::json({{"type", "builtin"}, {"path", ""}}));
  EXPECT_EQ(j["streaming"]["port"], 0);
  EXPECT_EQ(j["metrics"]["enabled"], true);
  std::vector<std::string> top;
  for (const auto& [k, v] : j.items()) top.push_back(k);
  EXPECT_EQ(top, (std::vector<std::string>{"cgroup_driver", "image", "listen", "log_format", "log_level", "metrics",
                                           "network",
                                           "root", "runtime", "state", "streaming"}));
  EXPECT_EQ(j["image"].size(), 5u);
  EXPECT_EQ(j["network"].size(), 3u);
  EXPECT_EQ(j["runtime"].size(), 7u);  // default_handler, handlers, default_capabilities, pids_limit, shm_size, cdi_spec_dirs, disk_usage_period
  EXPECT_EQ(j["streaming"].size(), 6u);  // address, port, tls_cert, tls_key, idle_timeout, max_sessions
  EXPECT_EQ(j["metrics"].size(), 2u);
}

}  // namespace
}  // namespace crius::conf
