// Checks made once all layers are merged: each rejects an impossible value
// and names the key and the file or flag that set it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

namespace fs = std::filesystem;

class ConfValidate : public ConfFixture {
 protected:
  // The error for `yaml` as the main file, or for `flags` over an empty one.
  std::string file_error(const std::string& yaml) {
    write(main_, yaml);
    return error({});
  }
  void accepts(const std::string& yaml) {
    write(main_, yaml);
    EXPECT_NO_THROW(load_with()) << yaml;
  }
};

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST_F(ConfValidate, RootAndStateMustBeAbsolute) {
  EXPECT_EQ(file_error("root: var/lib/crius\n"), main_ + ": root: must be an absolute path, got \"var/lib/crius\"");
  EXPECT_CONTAINS(error({"--state=run"}), "--state: state: must be an absolute path");
  EXPECT_CONTAINS(error({"--root="}), "--root: root: must be an absolute path, got \"\"");
}

TEST_F(ConfValidate, ListenMustBeAnAbsoluteSocketPath) {
  EXPECT_CONTAINS(file_error("listen: crius.sock\n"), main_ + ": listen: must be an absolute path");
  EXPECT_CONTAINS(error({"--listen=tcp://127.0.0.1:1"}), "--listen: listen: must be an absolute path");
  std::string deep = "/" + std::string(120, 'x') + ".sock";
  EXPECT_CONTAINS(error({"--listen=" + deep}), "--listen: listen: a unix socket path must be shorter than 108");
  // Derived from state, the error names where state came from.
  write(main_, "");
  EXPECT_CONTAINS(error({"--state=/" + std::string(110, 's')}), "--state: listen: a unix socket path");
}

TEST_F(ConfValidate, LogLevel) {
  EXPECT_EQ(file_error("log_level: verbose\n"),
            main_ + ": log_level: must be one of trace, debug, info, warn, error, got \"verbose\"");
  for (const char* l : {"trace", "debug", "info", "warn", "error"}) EXPECT_EQ(load_with({"--log-level", l}).log_level, l);
  EXPECT_EQ(file_error("log_format: text\n"), main_ + ": log_format: must be one of logfmt, json, got \"text\"");
  for (const char* f : {"logfmt", "json"}) EXPECT_EQ(load_with({"--log-format", f}).log_format, f);
}

TEST_F(ConfValidate, CgroupDriver) {
  EXPECT_EQ(error({"--cgroup-driver=cgroupv2"}),
            "--cgroup-driver: cgroup_driver: must be one of cgroupfs, systemd, got \"cgroupv2\"");
}

TEST_F(ConfValidate, CniConfigDirMustBeAbsolute) {
  write(dir_ + "/crius.d/10-net.yaml", "network:\n  cni_config_dir: etc/cni/net.d\n");
  EXPECT_EQ(error({}), dir_ + "/crius.d/10-net.yaml: network.cni_config_dir: must be an absolute path, got \"etc/cni/net.d\"");
}

TEST_F(ConfValidate, CniPluginDirsNonEmptyAndAbsolute) {
  EXPECT_EQ(file_error("network:\n  cni_plugin_dirs: []\n"),
            main_ + ": network.cni_plugin_dirs: must list at least one directory");
  EXPECT_EQ(error({"--cni-plugin-dirs=/opt/cni/bin,lib/cni"}),
            "--cni-plugin-dirs: network.cni_plugin_dirs[1]: must be an absolute path, got \"lib/cni\"");
}

TEST_F(ConfValidate, RegistryPrefixNonEmptyAndUnique) {
  EXPECT_EQ(file_error("image:\n  registries: [{location: r.io}]\n"),
            main_ + ": image.registries[0].prefix: must not be empty");
  EXPECT_EQ(file_error("image:\n  registries: [{prefix: a.io}, {prefix: b.io}, {prefix: a.io}]\n"),
            main_ + ": image.registries[2].prefix: duplicate prefix \"a.io\", already in image.registries[0]");
  EXPECT_CONTAINS(file_error("image:\n  registries: [{prefix: \"https://a.io\"}]\n"),
                  main_ + ": image.registries[0].prefix: must be an image reference prefix");
}

TEST_F(ConfValidate, RegistryLocationHasNoScheme) {
  std::string e = file_error("image:\n  registries: [{prefix: a.io, location: \"http://mirror.local:5000\"}]\n");
  EXPECT_CONTAINS(e, main_ + ": image.registries[0].location: must be host[:port][/path] without a scheme");
  EXPECT_CONTAINS(e, "insecure: true");
  EXPECT_CONTAINS(file_error("image:\n  registries: [{prefix: a.io, location: \"https://m.local\"}]\n"),
                  "drop \"https://\"");
}

TEST_F(ConfValidate, RegistryLocationShape) {
  EXPECT_CONTAINS(file_error("image:\n  registries: [{prefix: a.io, location: \"my registry\"}]\n"),
                  main_ + ": image.registries[0].location: must not contain spaces");
  EXPECT_CONTAINS(file_error("image:\n  registries: [{prefix: a.io, location: \"m.local:99999\"}]\n"),
                  main_ + ": image.registries[0].location: port must be between 1 and 65535");
  EXPECT_CONTAINS(file_error("image:\n  registries: [{prefix: a.io, location: \"m_local!\"}]\n"),
                  main_ + ": image.registries[0].location: must be host[:port][/path]");
  accepts("image:\n  registries:\n"
          "    - {prefix: a.io, location: \"m.local:5000/docker/hub\"}\n"
          "    - {prefix: \"*.example.com\"}\n"
          "    - {prefix: b.io, location: \"[fd00::1]:5000\"}\n");
}

TEST_F(ConfValidate, MirrorLocation) {
  EXPECT_CONTAINS(
      error({"--image-registries=[{prefix: a.io, mirrors: [{location: ok.io}, {location: \"http://m.io\"}]}]"}),
      "--image-registries: image.registries[0].mirrors[1].location: must be host[:port][/path] without a scheme");
  EXPECT_CONTAINS(error({"--image-registries=[{prefix: a.io, mirrors: [{insecure: true}]}]"}),
                  "--image-registries: image.registries[0].mirrors[0].location: must not be empty");
}

TEST_F(ConfValidate, ShortNameSearchEntriesAreHostNames) {
  EXPECT_CONTAINS(error({"--image-short-name-search=docker.io,quay.io/org"}),
                  "--image-short-name-search: image.short_name_search[1]: must be a registry host name without a path");
  EXPECT_CONTAINS(error({"--image-short-name-search=https://quay.io"}),
                  "--image-short-name-search: image.short_name_search[0]: must be a registry host[:port] without a scheme");
  EXPECT_CONTAINS(error({"--image-short-name-search=docker.io,"}),
                  "--image-short-name-search: image.short_name_search[1]: must not be empty");
  EXPECT_EQ(load_with({"--image-short-name-search=localhost:5000"}).image.short_name_search,
            std::vector<std::string>{"localhost:5000"});
}

TEST_F(ConfValidate, PullProgressTimeoutPositive) {
  EXPECT_EQ(file_error("image:\n  pull_progress_timeout: 0s\n"),
            main_ + ": image.pull_progress_timeout: must be greater than 0, got \"0s\"");
  EXPECT_CONTAINS(error({"--image-pull-progress-timeout=-5"}),
                  "--image-pull-progress-timeout: image.pull_progress_timeout: must be greater than 0, got \"-5s\"");
  EXPECT_EQ(load_with({"--image-pull-progress-timeout=45"}).image.pull_progress_timeout, std::chrono::seconds(45));
}

TEST_F(ConfValidate, MaxParallelLayersRange) {
  EXPECT_EQ(error({"--image-max-parallel-layers=0"}),
            "--image-max-parallel-layers: image.max_parallel_layers: must be between 1 and 64, got 0");
  EXPECT_EQ(file_error("image:\n  max_parallel_layers: 65\n"),
            main_ + ": image.max_parallel_layers: must be between 1 and 64, got 65");
  EXPECT_EQ(load_with({"--image-max-parallel-layers=64"}).image.max_parallel_layers, 64);
}

TEST_F(ConfValidate, HandlerType) {
  EXPECT_EQ(error({"--runtime-handlers={kata: {type: vm, path: /k}}"}),
            "--runtime-handlers: runtime.handlers.kata.type: must be builtin or oci, got \"vm\"");
  EXPECT_EQ(error({"--runtime-handlers={kata: {path: /k}}"}),
            "--runtime-handlers: runtime.handlers.kata.type: must be builtin or oci, got \"\"");
}

TEST_F(ConfValidate, OciHandlerNeedsAUsablePath) {
  EXPECT_CONTAINS(file_error("runtime:\n  handlers:\n    kata: {type: oci}\n"),
                  main_ + ": runtime.handlers.kata.path: required for type oci");
  EXPECT_EQ(file_error("runtime:\n  handlers:\n    kata: {type: oci, path: bin/kata}\n"),
            main_ + ": runtime.handlers.kata.path: must be an absolute path or a bare command name, got \"bin/kata\"");
  accepts("runtime:\n  handlers:\n    kata: {type: oci, path: kata-runtime}\n");
}

TEST_F(ConfValidate, BuiltinHandlerHasNoPath) {
  EXPECT_EQ(file_error("runtime:\n  handlers:\n    crius: {path: /usr/bin/crius}\n"),
            main_ + ": runtime.handlers.crius.path: must be empty for type builtin, got \"/usr/bin/crius\"");
}

TEST_F(ConfValidate, HandlerNamesAreDnsLabels) {
  for (const std::string& name : std::vector<std::string>{"Kata", "kata_vm", "-kata", "kata-", std::string(64, 'k'), "\"\""}) {
    std::string e = error({"--runtime-handlers={" + name + ": {type: oci, path: /k}}"});
    EXPECT_CONTAINS(e, "--runtime-handlers: runtime.handlers.");
    EXPECT_CONTAINS(e, "a handler name must be a DNS label");
  }
  EXPECT_NO_THROW(load_with({"--runtime-handlers={k8s-kata-2: {type: oci, path: /k}}"}));
  EXPECT_NO_THROW(load_with({"--runtime-handlers={" + std::string(63, 'k') + ": {type: oci, path: /k}}"}));
}

TEST_F(ConfValidate, DefaultHandlerMustExist) {
  EXPECT_EQ(error({"--runtime-default-handler=kata"}),
            "--runtime-default-handler: runtime.default_handler: no handler named \"kata\" in runtime.handlers");
  // The path is still the built-in one; the layer that changed the handler is named.
  EXPECT_EQ(file_error("runtime:\n  handlers:\n    crius: {type: oci}\n"),
            main_ + ": runtime.handlers.crius.path: required for type oci: an absolute path, or a command name "
            "looked up in PATH");
}

TEST_F(ConfValidate, StreamingAddressIsAnIpLiteral) {
  EXPECT_EQ(error({"--streaming-address=localhost"}),
            "--streaming-address: streaming.address: must be an IPv4 or IPv6 address, got \"localhost\"");
  EXPECT_CONTAINS(file_error("streaming:\n  address: 10.0.0.256\n"), main_ + ": streaming.address:");
  EXPECT_EQ(load_with({"--streaming-address=::1"}).streaming.address, "::1");
  EXPECT_EQ(load_with({"--streaming-address=0.0.0.0"}).streaming.address, "0.0.0.0");
}

TEST_F(ConfValidate, StreamingPortRange) {
  EXPECT_EQ(error({"--streaming-port=65536"}), "--streaming-port: streaming.port: must be between 0 and 65535, got 65536");
  EXPECT_EQ(file_error("streaming:\n  port: -1\n"), main_ + ": streaming.port: must be between 0 and 65535, got -1");
  EXPECT_EQ(load_with({"--streaming-port=65535"}).streaming.port, 65535);
}

TEST_F(ConfValidate, MetricsAddress) {
  EXPECT_CONTAINS(error({"--metrics-address=9090"}), "--metrics-address: metrics.address: must be host:port");
  EXPECT_CONTAINS(error({"--metrics-address=example.com:9090"}),
                  "--metrics-address: metrics.address: host must be an IP address or localhost");
  EXPECT_CONTAINS(error({"--metrics-address=::1:9090"}),
                  "--metrics-address: metrics.address: an IPv6 address must be in brackets");
  EXPECT_CONTAINS(error({"--metrics-address=127.0.0.1:65536"}),
                  "--metrics-address: metrics.address: port must be between 0 and 65535");
  EXPECT_CONTAINS(error({"--metrics-address=127.0.0.1:"}), "metrics.address: port must be between 0 and 65535");
  EXPECT_CONTAINS(file_error("metrics:\n  address: \":9090\"\n"), main_ + ": metrics.address: host must be");
  for (const char* ok : {"0.0.0.0:9090", "[::]:0", "[::1]:9090", "localhost:65535"})
    EXPECT_EQ(load_with({std::string("--metrics-address=") + ok}).metrics.address, ok);
}

TEST_F(ConfValidate, MetricsEnabledIsABoolean) {
  EXPECT_EQ(error({"--metrics-enabled=sometimes"}),
            "--metrics-enabled: metrics.enabled: expected true or false, got \"sometimes\"");
}

TEST_F(ConfValidate, EveryProblemIsReportedAtOnce) {
  write(main_, "root: a\nlog_level: loud\n");
  std::string e = error({"--streaming-port=70000"});
  EXPECT_CONTAINS(e, main_ + ": root: ");
  EXPECT_CONTAINS(e, main_ + ": log_level: ");
  EXPECT_CONTAINS(e, "--streaming-port: streaming.port: ");
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 2) << e;
}

TEST_F(ConfValidate, OnlyTheMergedValueIsChecked) {
  // A bad value that a later layer replaces is not an error.
  write(main_, "root: relative\nimage:\n  max_parallel_layers: 0\n");
  write(dir_ + "/crius.d/10.yaml", "image:\n  max_parallel_layers: 4\n");
  EXPECT_EQ(load_with({"--root=/abs"}).image.max_parallel_layers, 4);
}

TEST_F(ConfValidate, ErrorNamesTheLastLayerThatSetTheKey) {
  write(main_, "image:\n  registries: [{prefix: a.io, location: \"http://x\"}]\n");
  write(dir_ + "/crius.d/10.yaml", "image:\n  registries: [{prefix: b.io}, {prefix: b.io}]\n");
  EXPECT_EQ(error({}), dir_ + "/crius.d/10.yaml: image.registries[1].prefix: duplicate prefix \"b.io\", already in "
                             "image.registries[0]");
  // A handler's fields keep their own sources when another layer merges into it.
  write(dir_ + "/crius.d/10.yaml", "runtime:\n  handlers:\n    kata: {type: oci}\n");
  write(dir_ + "/crius.d/20.yaml", "runtime:\n  handlers:\n    kata: {path: rel/kata}\n");
  EXPECT_CONTAINS(error({}), dir_ + "/crius.d/20.yaml: runtime.handlers.kata.path:");
}

}  // namespace
}  // namespace crius::conf
