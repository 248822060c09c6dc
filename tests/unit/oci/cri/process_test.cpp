// Process args, env, cwd, tty and the user, as build_spec sets them.
#include "tests/unit/oci/cri/cri_spec_fixture.h"

namespace crius::oci::cri::testing {
namespace {

using CriSpecProcess = CriSpecTest;

TEST_F(CriSpecProcess, ImageEntrypointAndCmdWhenConfigHasNeither) {
  image_.entrypoint = {"/entry", "-x"};
  image_.cmd = {"run"};
  EXPECT_EQ(build().spec["process"]["args"], json({"/entry", "-x", "run"}));
}

TEST_F(CriSpecProcess, ArgsAloneReplaceCmdAndKeepEntrypoint) {
  image_.entrypoint = {"/entry"};
  image_.cmd = {"run"};
  config_.add_args("serve");
  config_.add_args("--port=80");
  EXPECT_EQ(build().spec["process"]["args"], json({"/entry", "serve", "--port=80"}));
}

TEST_F(CriSpecProcess, CommandReplacesEntrypointAndDropsCmd) {
  image_.entrypoint = {"/entry"};
  image_.cmd = {"run"};
  config_.add_command("/bin/echo");
  EXPECT_EQ(build().spec["process"]["args"], json({"/bin/echo"}));
  config_.add_args("hi");
  EXPECT_EQ(build().spec["process"]["args"], json({"/bin/echo", "hi"}));
}

TEST_F(CriSpecProcess, NoCommandAtAllIsInvalidArgument) {
  image_.entrypoint.clear();
  image_.cmd.clear();
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("no command"), std::string::npos) << e.what();
}

TEST_F(CriSpecProcess, EnvImageThenConfigOverridingByName) {
  image_.env = {"PATH=/img/bin", "A=1", "B=2"};
  auto* kv = config_.add_envs();
  kv->set_key("B");
  kv->set_value("two");
  kv = config_.add_envs();
  kv->set_key("C");
  kv->set_value("x=y");
  auto env = build().spec["process"]["env"];
  EXPECT_EQ(env, json({"HOSTNAME=pod-a", "PATH=/img/bin", "A=1", "B=two", "C=x=y"}));
}

TEST_F(CriSpecProcess, DefaultPathWhenImageHasNone) {
  image_.env.clear();
  auto env = build().spec["process"]["env"];
  EXPECT_TRUE(has(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")) << env;
  EXPECT_TRUE(has(env, "HOSTNAME=pod-a")) << env;
}

TEST_F(CriSpecProcess, CwdFromConfigThenImageThenRoot) {
  EXPECT_EQ(build().spec["process"]["cwd"], "/");
  image_.working_dir = "/srv";
  EXPECT_EQ(build().spec["process"]["cwd"], "/srv");
  config_.set_working_dir("/data");
  EXPECT_EQ(build().spec["process"]["cwd"], "/data");
  config_.set_working_dir("rel");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecProcess, TerminalFollowsTty) {
  EXPECT_EQ(build().spec["process"]["terminal"], false);
  config_.set_tty(true);
  EXPECT_EQ(build().spec["process"]["terminal"], true);
}

TEST_F(CriSpecProcess, StopSignalFromConfigThenImageThenSigterm) {
  EXPECT_EQ(build().stop_signal, 15);
  image_.stop_signal = "SIGQUIT";
  EXPECT_EQ(build().stop_signal, 3);
  image_.stop_signal = "9";
  EXPECT_EQ(build().stop_signal, 9);
  image_.stop_signal = "USR1";
  EXPECT_EQ(build().stop_signal, 10);
  config_.set_stop_signal(v1::SIGNAL_SIGINT);
  EXPECT_EQ(build().stop_signal, 2);
  config_.clear_stop_signal();
  image_.stop_signal = "SIGNOPE";
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecProcess, RootByDefault) {
  auto b = build();
  EXPECT_EQ(b.user.uid, 0u);
  EXPECT_EQ(b.user.gid, 0u);
  EXPECT_EQ(b.user.username, "root");
  // root is a member of wheel in the image's /etc/group.
  EXPECT_EQ(b.spec["process"]["user"]["additionalGids"], json({0, 10}));
}

TEST_F(CriSpecProcess, RunAsUserNumericTakesThePasswdGroup) {
  sc()->mutable_run_as_user()->set_value(1000);
  auto b = build();
  EXPECT_EQ(b.spec["process"]["user"]["uid"], 1000);
  EXPECT_EQ(b.spec["process"]["user"]["gid"], 1000);
  EXPECT_EQ(b.user.username, "app");
  EXPECT_EQ(b.user.supplemental_groups, (std::vector<uint32_t>{1000, 10, 50}));
}

TEST_F(CriSpecProcess, RunAsUserUnknownToTheImageKeepsGidZero) {
  sc()->mutable_run_as_user()->set_value(4321);
  auto b = build();
  EXPECT_EQ(b.user.uid, 4321u);
  EXPECT_EQ(b.user.gid, 0u);
  EXPECT_EQ(b.user.username, "");
}

TEST_F(CriSpecProcess, RunAsGroupOverrides) {
  sc()->mutable_run_as_user()->set_value(1000);
  sc()->mutable_run_as_group()->set_value(44);
  auto b = build();
  EXPECT_EQ(b.user.gid, 44u);
  EXPECT_EQ(b.user.supplemental_groups, (std::vector<uint32_t>{44, 10, 50}));
}

TEST_F(CriSpecProcess, RunAsGroupAloneIsRefusedNamingIt) {
  sc()->mutable_run_as_group()->set_value(44);
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("run_as_group"), std::string::npos) << e.what();
}

TEST_F(CriSpecProcess, RunAsUsernameResolvesOrFailsNamingIt) {
  sc()->set_run_as_username("app");
  EXPECT_EQ(build().user.uid, 1000u);
  sc()->set_run_as_username("ghost");
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("\"ghost\""), std::string::npos) << e.what();
}

TEST_F(CriSpecProcess, ImageUserForms) {
  image_.user = "1000";
  EXPECT_EQ(build().user.gid, 1000u);
  image_.user = "app";
  EXPECT_EQ(build().user.uid, 1000u);
  image_.user = "1000:50";
  auto b = build();
  EXPECT_EQ(b.user.uid, 1000u);
  EXPECT_EQ(b.user.gid, 50u);
  image_.user = "app:video";
  b = build();
  EXPECT_EQ(b.user.uid, 1000u);
  EXPECT_EQ(b.user.gid, 44u);
  image_.user = "app:nosuchgroup";
  EXPECT_NE(std::string(error().what()).find("nosuchgroup"), std::string::npos);
  image_.user = "nosuchuser";
  EXPECT_NE(std::string(error().what()).find("nosuchuser"), std::string::npos);
}

TEST_F(CriSpecProcess, RunAsUserWinsOverImageUser) {
  image_.user = "app";
  sc()->mutable_run_as_user()->set_value(65534);
  EXPECT_EQ(build().user.username, "nobody");
}

TEST_F(CriSpecProcess, SupplementalGroupsMergeAndStrict) {
  sc()->mutable_run_as_user()->set_value(1000);
  sc()->add_supplemental_groups(3000);
  sc()->add_supplemental_groups(50);
  EXPECT_EQ(build().user.supplemental_groups, (std::vector<uint32_t>{1000, 10, 50, 3000}));
  sc()->set_supplemental_groups_policy(v1::Strict);
  auto b = build();
  EXPECT_EQ(b.user.supplemental_groups, (std::vector<uint32_t>{1000, 3000, 50}));
  EXPECT_EQ(b.spec["process"]["user"]["additionalGids"], json({1000, 3000, 50}));
}

TEST_F(CriSpecProcess, NegativeIdsAreInvalid) {
  sc()->mutable_run_as_user()->set_value(-1);
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

TEST_F(CriSpecProcess, PasswdSymlinkPointingOutOfTheRootfsIsNotFollowedOut) {
  // /etc/passwd -> /host-passwd, absolute: must resolve inside the rootfs.
  write(tmp_ + "/host-passwd", "evil:x:1000:7777::/:/bin/sh\n");
  fs::remove(rootfs_ + "/etc/passwd");
  fs::create_symlink(tmp_ + "/host-passwd", rootfs_ + "/etc/passwd");
  sc()->set_run_as_username("evil");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);

  // A relative link climbing out with .. stays in the root too.
  fs::remove(rootfs_ + "/etc/passwd");
  fs::create_symlink("../../host-passwd", rootfs_ + "/etc/passwd");
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);

  // The same link resolved inside the rootfs is read.
  write(rootfs_ + tmp_ + "/host-passwd", "evil:x:1234:1234::/:/bin/sh\n");
  fs::remove(rootfs_ + "/etc/passwd");
  fs::create_symlink(tmp_ + "/host-passwd", rootfs_ + "/etc/passwd");
  EXPECT_EQ(build().user.uid, 1234u);
}

TEST_F(CriSpecProcess, ImageWithoutPasswdStillRunsNumericUsers) {
  fs::remove(rootfs_ + "/etc/passwd");
  fs::remove(rootfs_ + "/etc/group");
  image_.user = "1000:1000";
  auto b = build();
  EXPECT_EQ(b.user.uid, 1000u);
  EXPECT_EQ(b.user.gid, 1000u);
  image_.user = "app";
  EXPECT_EQ(error().code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace crius::oci::cri::testing
