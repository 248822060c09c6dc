// The crius command line: commands, file flags, and config-key flags kept
// for load() to apply.
#include <gtest/gtest.h>

#include <initializer_list>

#include "conf/load.h"

namespace crius::conf {
namespace {

Options parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"crius"};
  argv.insert(argv.end(), args);
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

std::string parse_error(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_args accepted the arguments";
  return "";
}

TEST(ConfArgs, NoArgumentsRunTheDaemonWithTheDefaultFiles) {
  Options o = parse({});
  EXPECT_EQ(o.command, "");
  EXPECT_FALSE(o.help);
  EXPECT_FALSE(o.version);
  EXPECT_EQ(o.config_file, "/etc/crius/crius.yaml");
  EXPECT_FALSE(o.config_file_explicit);
  EXPECT_EQ(o.config_dir, "/etc/crius/crius.d");
  EXPECT_TRUE(o.overrides.empty());
}

TEST(ConfArgs, ConfigCommand) {
  EXPECT_EQ(parse({"config"}).command, "config");
  Options o = parse({"config", "--config", "/x/c.yaml"});
  EXPECT_EQ(o.command, "config");
  EXPECT_EQ(o.config_file, "/x/c.yaml");
}

TEST(ConfArgs, HelpAndVersion) {
  EXPECT_TRUE(parse({"--help"}).help);
  EXPECT_TRUE(parse({"-h"}).help);
  EXPECT_TRUE(parse({"--version"}).version);
  EXPECT_TRUE(parse({"-v"}).version);
  EXPECT_FALSE(parse({"-v"}).help);
  EXPECT_EQ(parse_error({"--help=yes"}), "--help: takes no value");
}

TEST(ConfArgs, ConfigFileMakesItExplicitAndMovesTheDropInDir) {
  Options o = parse({"--config", "/srv/crius/main.yaml"});
  EXPECT_EQ(o.config_file, "/srv/crius/main.yaml");
  EXPECT_TRUE(o.config_file_explicit);
  EXPECT_EQ(o.config_dir, "/srv/crius/crius.d");

  o = parse({"--config=/a/b.yaml", "--config-dir=/c/d"});
  EXPECT_EQ(o.config_file, "/a/b.yaml");
  EXPECT_EQ(o.config_dir, "/c/d");
}

TEST(ConfArgs, ConfigFlagsAreKeptAsTypedInOrder) {
  Options o = parse({"--root", "/r", "--log-level=debug", "--cni-plugin-dirs=/a,/b", "--root=/r2"});
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(o.overrides, (std::vector<P>{{"--root", "/r"}, {"--log-level", "debug"},
                                         {"--cni-plugin-dirs", "/a,/b"}, {"--root", "/r2"}}));
}

TEST(ConfArgs, EveryConfigKeyHasAFlag) {
  for (const char* flag :
       {"--root", "--state", "--listen", "--log-level", "--cgroup-driver", "--network-cni-config-dir",
        "--network-cni-plugin-dirs", "--image-registries", "--image-short-name-search",
        "--image-pull-progress-timeout", "--image-max-parallel-layers", "--runtime-default-handler",
        "--runtime-handlers", "--streaming-address", "--streaming-port", "--metrics-enabled", "--metrics-address",
        "--cni-config-dir", "--cni-plugin-dirs"}) {
    std::string arg = std::string(flag) + "=x";
    EXPECT_NO_THROW(parse({arg.c_str()})) << flag;
  }
}

TEST(ConfArgs, ValueMayContainEqualsAndBeEmpty) {
  Options o = parse({"--runtime-handlers={a: {type: oci, path: /x=y}}", "--listen="});
  EXPECT_EQ(o.overrides[0].second, "{a: {type: oci, path: /x=y}}");
  EXPECT_EQ(o.overrides[1].second, "");
}

TEST(ConfArgs, UnknownFlag) {
  EXPECT_EQ(parse_error({"--foo"}), "--foo: unknown flag");
  EXPECT_EQ(parse_error({"--foo=1"}), "--foo: unknown flag");
  EXPECT_EQ(parse_error({"-x"}), "-x: unknown flag");
  EXPECT_EQ(parse_error({"--log_level=debug"}), "--log_level: unknown flag");
}

TEST(ConfArgs, FlagWithoutValue) {
  EXPECT_EQ(parse_error({"--root"}), "--root: missing value");
  EXPECT_EQ(parse_error({"--root", "--state", "/s"}), "--root: missing value");
  EXPECT_EQ(parse_error({"--config"}), "--config: missing value");
  EXPECT_EQ(parse_error({"--config="}), "--config: missing value");
  EXPECT_EQ(parse_error({"--config-dir"}), "--config-dir: missing value");
  EXPECT_EQ(parse_error({"--metrics-enabled"}), "--metrics-enabled: missing value");
}

TEST(ConfArgs, UnknownCommandAndExtraArguments) {
  EXPECT_EQ(parse_error({"serve"}), "serve: unknown command");
  EXPECT_EQ(parse_error({"config", "extra"}), "extra: unexpected argument (the command is config)");
}

TEST(ConfArgs, UsageListsEveryFlagWithItsKeyAndDefault) {
  std::string u = usage();
  for (const char* text :
       {"--help", "--version", "--config FILE", "--config-dir DIR", "/etc/crius/crius.yaml",
        "--root DIR", "root: ", "/var/lib/crius", "--state DIR", "/run/crius", "--listen", "<state>/crius.sock",
        "--log-level", "log_level: ", "default: info", "--cgroup-driver", "/run/systemd/system",
        "--network-cni-config-dir", "network.cni_config_dir: ", "/etc/cni/net.d", "--cni-config-dir",
        "--network-cni-plugin-dirs", "/opt/cni/bin,/usr/lib/cni", "--cni-plugin-dirs", "--image-registries",
        "image.registries: ", "--image-short-name-search", "default: docker.io", "--image-pull-progress-timeout",
        "default: 1m", "--image-max-parallel-layers", "default: 3", "--runtime-default-handler", "default: crius",
        "--runtime-handlers", "runc: {type: oci, path: runc}", "--streaming-address", "default: 127.0.0.1\n",
        "--streaming-port", "default: 0", "--metrics-enabled", "default: true", "--metrics-address",
        "default: 127.0.0.1:9090"})
    EXPECT_NE(u.find(text), std::string::npos) << text;
}

}  // namespace
}  // namespace crius::conf
