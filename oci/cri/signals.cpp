// Signal names to numbers for the stop signal: the runtime's parser, given
// the CRI Signal enum's own spelling of the real-time signals translated.
#include "base/error.h"
#include "oci/cri/internal.h"
#include "oci/runtime/signals.h"

namespace crius::oci::cri::detail {

namespace {

// The CRI enum names SIGRTMIN+n and SIGRTMAX-n SIGRTMINPLUSn and
// SIGRTMAXMINUSn; every other name is passed on as it is.
std::string runtime_spelling(const std::string& name) {
  if (name.starts_with("SIGRTMINPLUS")) return "SIGRTMIN+" + name.substr(12);
  if (name.starts_with("SIGRTMAXMINUS")) return "SIGRTMAX-" + name.substr(13);
  return name;
}

}  // namespace

int signal_number(const std::string& name, const std::string& what) {
  try {
    return runtime::parse_signal(runtime_spelling(name));
  } catch (const crius::Error& e) {
    throw InvalidArgument(what + ": " + e.what());
  }
}

}  // namespace crius::oci::cri::detail
