// Stop signals (the CRI's ContainerStopSignals): StopContainer sends the
// container's stop signal first, the one ContainerConfig.stop_signal names or
// else SIGTERM, and ContainerStatus.stop_signal reports the one used.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
//
#include <gtest/gtest.h>

#include <string>

namespace crius::test {
namespace {

// The enum value's signal name without cri-api's SIGNAL_ prefix ("SIGUSR1").
std::string signal_name(v1::Signal s) { return v1::Signal_Name(s).substr(7); }

// busybox sh as PID 1 that exits 0 on `sig` and ignores everything else (a
// PID 1 has no default action for a signal it does not handle), so only the
// right signal ends it before SIGKILL would; it says when the trap is set.
v1::ContainerConfig trapping(const std::string& name, const std::string& image, const std::string& sig) {
  return container_config(name, image,
                          {"sh", "-c", "trap \"echo got-" + sig + "; exit 0\" " + sig +
                                           "; echo trap-set; while :; do sleep 0.1; done"});
}

TEST(StopSignal, TheConfiguredSignalIsSentFirstAndReported) {
  ContainerEnv env;
  const std::string pod = env.run_pod("stopsig");
  auto c = trapping("usr1", env.image, "USR1");
  c.set_stop_signal(v1::SIGNAL_SIGUSR1);
  const std::string id = env.create(pod, c);
  EXPECT_EQ(signal_name(container_status(env.daemon, id).status().stop_signal()), "SIGUSR1");
  ASSERT_TRUE(wait_log(env.daemon, id, "trap-set")) << container_log(env.daemon, id);

  // A grace period far longer than a signal takes: only USR1 ends it
  // with exit code 0 (SIGKILL at the end of it would give 137).
  ASSERT_TRUE(stop_container(env.daemon, id, 60).ok());
  auto st = container_status(env.daemon, id).status();
  EXPECT_EQ(st.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(st.exit_code(), 0);
  EXPECT_EQ(signal_name(st.stop_signal()), "SIGUSR1");
  EXPECT_TRUE(wait_log(env.daemon, id, "got-USR1")) << container_log(env.daemon, id);

  ASSERT_TRUE(remove_container(env.daemon, id).ok());
}

TEST(StopSignal, WithoutOneItIsSigterm) {
  ContainerEnv env;
  const std::string pod = env.run_pod("stopsig");
  const std::string id = env.create(pod, trapping("term", env.image, "TERM"));
  // RUNTIME_DEFAULT is not echoed back: the status names the signal used,
  // SIGTERM when neither the config nor the image names one.
  EXPECT_EQ(signal_name(container_status(env.daemon, id).status().stop_signal()), "SIGTERM");
  ASSERT_TRUE(wait_log(env.daemon, id, "trap-set")) << container_log(env.daemon, id);

  ASSERT_TRUE(stop_container(env.daemon, id, 60).ok());
  auto st = container_status(env.daemon, id).status();
  EXPECT_EQ(st.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(st.exit_code(), 0);
  EXPECT_EQ(signal_name(st.stop_signal()), "SIGTERM");
  EXPECT_TRUE(wait_log(env.daemon, id, "got-TERM")) << container_log(env.daemon, id);

  ASSERT_TRUE(remove_container(env.daemon, id).ok());
}

}  // namespace
}  // namespace crius::test
