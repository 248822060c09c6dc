// Signal names to numbers for the stop signal: the runtime's parser, given
// the CRI Signal enum's own spelling of the real-time signals translated;
// and numbers back to the enum for ContainerStatus.
#include "oci/cri/signals.h"

#include <string.h>

#include "base/error.h"
#include "oci/cri/internal.h"
#include "oci/runtime/signals.h"

namespace crius::oci::cri {
namespace v1 = ::runtime::v1;

namespace {

// The CRI enum prefixes every value with SIGNAL_ (SIGNAL_SIGTERM) and names
// SIGRTMIN+n and SIGRTMAX-n SIGRTMINPLUSn and SIGRTMAXMINUSn. Every other
// name (an image's StopSignal) is passed on as it is.
std::string runtime_spelling(std::string name) {
  if (name.starts_with("SIGNAL_")) name.erase(0, 7);
  if (name.starts_with("SIGRTMINPLUS")) return "SIGRTMIN+" + name.substr(12);
  if (name.starts_with("SIGRTMAXMINUS")) return "SIGRTMAX-" + name.substr(13);
  return name;
}

// The enum's spelling of signal `sig` without the SIGNAL_ prefix, or "".
std::string enum_spelling(int sig) {
  static const int rtmin = runtime::parse_signal("SIGRTMIN");
  static const int rtmax = runtime::parse_signal("SIGRTMAX");
  // The enum has SIGRTMIN to SIGRTMIN+15 and SIGRTMAX-14 to SIGRTMAX.
  if (sig >= rtmin && sig <= rtmin + 15)
    return sig == rtmin ? "SIGRTMIN" : "SIGRTMINPLUS" + std::to_string(sig - rtmin);
  if (sig >= rtmax - 14 && sig <= rtmax)
    return sig == rtmax ? "SIGRTMAX" : "SIGRTMAXMINUS" + std::to_string(rtmax - sig);
  const char* abbrev = sig > 0 ? ::sigabbrev_np(sig) : nullptr;
  return abbrev ? std::string("SIG") + abbrev : "";
}

}  // namespace

v1::Signal cri_signal(int sig) {
  const std::string name = enum_spelling(sig);
  v1::Signal out{};
  if (!name.empty() && v1::Signal_Parse("SIGNAL_" + name, &out)) return out;
  return v1::SIGNAL_RUNTIME_DEFAULT;
}

namespace detail {

int signal_number(const std::string& name, const std::string& what) {
  try {
    return runtime::parse_signal(runtime_spelling(name));
  } catch (const crius::Error& e) {
    throw InvalidArgument(what + ": " + e.what());
  }
}

}  // namespace detail
}  // namespace crius::oci::cri
