// Fuzzes Localhost seccomp profiles (the OCI form and Docker's, with
// archMap, includes and excludes) as CreateContainer reads them: the file's
// JSON converted to linux.seccomp by cri::detail::seccomp_from_profile, for
// a container without and with extra capabilities; then what the runtime
// does with the result at create (parse_spec, SeccompFilter::build).
// Invariants: a profile is converted or refused with InvalidArgument (no
// other exception); the result has a known defaultAction, a non-empty list
// of architectures, and syscall rules that each name at least one syscall
// and carry an action; the runtime accepts it or refuses it with
// InvalidArgument.
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "oci/cri/internal.h"
#include "oci/runtime/seccomp.h"
#include "oci/runtime/spec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using nlohmann::json;

void check_converted(const json& s) {
  CRIUS_FUZZ_CHECK(s.is_object());
  CRIUS_FUZZ_CHECK(s.contains("defaultAction") && s["defaultAction"].is_string());
  const auto& actions = crius::oci::runtime::seccomp_action_names();
  CRIUS_FUZZ_CHECK(std::find(actions.begin(), actions.end(), s["defaultAction"].get<std::string>()) != actions.end());
  CRIUS_FUZZ_CHECK(s["architectures"].is_array() && !s["architectures"].empty());
  for (const json& r : s["syscalls"]) {
    CRIUS_FUZZ_CHECK(r["names"].is_array() && !r["names"].empty());
    CRIUS_FUZZ_CHECK(r["action"].is_string());
  }
  // What the runtime gets in config.json.
  const json doc = {{"ociVersion", "1.2.0"}, {"root", {{"path", "rootfs"}}}, {"linux", {{"seccomp", s}}}};
  try {
    const crius::oci::Spec spec = crius::oci::parse_spec(doc);
    CRIUS_FUZZ_CHECK(spec.linux_ && spec.linux_->seccomp);
    std::vector<std::string> skipped;
    CRIUS_FUZZ_CHECK(crius::oci::runtime::SeccompFilter::build(*spec.linux_->seccomp, skipped) != nullptr);
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const json profile = json::parse(crius::fuzz::text(data, size), nullptr, false);
  if (profile.is_discarded()) return 0;  // refused before conversion
  const std::vector<std::vector<std::string>> cap_sets = {
      {}, {"CAP_SYS_ADMIN", "NET_ADMIN", "CAP_SYS_PTRACE", "CAP_BPF"}};
  for (const auto& caps : cap_sets) {
    try {
      check_converted(crius::oci::cri::detail::seccomp_from_profile(profile, caps, "/fuzz/profile.json"));
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
    }
  }
  return 0;
}
