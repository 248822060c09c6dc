// The stop signal: the CRI's, else the image's, else SIGTERM; and the CRI
// Signal enum for the one used, as ContainerStatus reports it.
#include "tests/unit/oci/cri/cri_spec_fixture.h"

#include "oci/cri/signals.h"

namespace crius::oci::cri::testing {
namespace {

using CriSpecStopSignal = CriSpecTest;

TEST_F(CriSpecStopSignal, TheConfiguredSignalWinsOverTheImages) {
  image_.stop_signal = "SIGQUIT";
  config_.set_stop_signal(v1::SIGNAL_SIGUSR1);
  EXPECT_EQ(build().stop_signal, 10);
  config_.set_stop_signal(v1::SIGNAL_SIGKILL);
  EXPECT_EQ(build().stop_signal, 9);
  config_.clear_stop_signal();  // RUNTIME_DEFAULT: the image's
  EXPECT_EQ(build().stop_signal, 3);
  image_.stop_signal.clear();   // neither: SIGTERM
  EXPECT_EQ(build().stop_signal, 15);
}

TEST_F(CriSpecStopSignal, RealTimeSignalsInTheEnumsSpelling) {
  config_.set_stop_signal(v1::SIGNAL_SIGRTMIN);
  EXPECT_EQ(build().stop_signal, 34);
  config_.set_stop_signal(v1::SIGNAL_SIGRTMINPLUS3);
  EXPECT_EQ(build().stop_signal, 37);
  config_.set_stop_signal(v1::SIGNAL_SIGRTMAXMINUS1);
  EXPECT_EQ(build().stop_signal, 63);
  config_.set_stop_signal(v1::SIGNAL_SIGRTMAX);
  EXPECT_EQ(build().stop_signal, 64);
}

TEST_F(CriSpecStopSignal, AValueOutsideTheEnumIsRefusedNamingTheField) {
  config_.set_stop_signal(static_cast<v1::Signal>(99));  // proto3 enums are open on the wire
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("stop_signal"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
}

TEST_F(CriSpecStopSignal, ABadImageStopSignalIsRefusedNamingIt) {
  image_.stop_signal = "SIGNOPE";
  auto e = error();
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("StopSignal"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("SIGNOPE"), std::string::npos) << e.what();
}

TEST(CriSignal, NamesTheSignalUsed) {
  EXPECT_EQ(cri_signal(15), v1::SIGNAL_SIGTERM);
  EXPECT_EQ(cri_signal(10), v1::SIGNAL_SIGUSR1);
  EXPECT_EQ(cri_signal(9), v1::SIGNAL_SIGKILL);
  EXPECT_EQ(cri_signal(6), v1::SIGNAL_SIGABRT);  // not SIGIOT, its alias
  EXPECT_EQ(cri_signal(34), v1::SIGNAL_SIGRTMIN);
  EXPECT_EQ(cri_signal(49), v1::SIGNAL_SIGRTMINPLUS15);
  EXPECT_EQ(cri_signal(50), v1::SIGNAL_SIGRTMAXMINUS14);
  EXPECT_EQ(cri_signal(64), v1::SIGNAL_SIGRTMAX);
  EXPECT_EQ(cri_signal(0), v1::SIGNAL_RUNTIME_DEFAULT);
  EXPECT_EQ(cri_signal(65), v1::SIGNAL_RUNTIME_DEFAULT);
}

// Every value kubelet can send comes back as a value for the same signal.
TEST(CriSignal, EveryEnumValueRoundTrips) {
  const auto* e = v1::Signal_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    const auto v = static_cast<v1::Signal>(e->value(i)->number());
    if (v == v1::SIGNAL_RUNTIME_DEFAULT) continue;
    const int n = detail::signal_number(e->value(i)->name(), "stop_signal");
    const v1::Signal back = cri_signal(n);
    EXPECT_NE(back, v1::SIGNAL_RUNTIME_DEFAULT) << e->value(i)->name();
    EXPECT_EQ(detail::signal_number(v1::Signal_Name(back), "stop_signal"), n) << e->value(i)->name();
  }
}

}  // namespace
}  // namespace crius::oci::cri::testing
