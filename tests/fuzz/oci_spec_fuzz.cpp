// Fuzzes a bundle's config.json as the builtin runtime reads it at create
// (oci::parse_spec_text), then what create derives from it without touching
// the system: the seccomp filter (SeccompFilter::build, never loaded), mount
// options and root propagation, capability sets, and the cgroup writes of
// linux.resources (cgroups::parse_resources, v2_writes, v1_writes); and the
// process object alone (oci::parse_process), as `exec --process` and the
// monitor's exec requests give it.
// Invariants: failures are crius::Error (InvalidArgument while parsing); a
// spec that parses has a root path and absolute mount destinations; every
// cgroup write names a plain file (no '/', not "." or ".."), so nothing is
// written outside the container's cgroup; capability sets only hold
// capabilities up to the kernel's last one.
#include <string>
#include <vector>

#include "base/error.h"
#include "oci/cgroups/resources.h"
#include "oci/runtime/caps.h"
#include "oci/runtime/mounts.h"
#include "oci/runtime/seccomp.h"
#include "oci/runtime/spec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace oci = crius::oci;

void check_writes(const std::vector<oci::cgroups::Write>& writes) {
  for (const auto& w : writes) {
    CRIUS_FUZZ_CHECK(!w.file.empty() && w.file != "." && w.file != "..");
    CRIUS_FUZZ_CHECK(w.file.find('/') == std::string::npos && w.controller.find('/') == std::string::npos);
  }
}

template <typename F>
void expect_errors_only(F&& f) {
  try {
    f();
  } catch (const crius::Error&) {
  }
}

void derive(const oci::Spec& spec) {
  CRIUS_FUZZ_CHECK(!spec.root.path.empty());
  for (const auto& m : spec.mounts) {
    CRIUS_FUZZ_CHECK(!m.destination.empty() && m.destination[0] == '/');
    expect_errors_only([&] { oci::runtime::parse_mount_options(m.options); });
  }
  if (spec.process && spec.process->capabilities) {
    static const int last = oci::runtime::kernel_last_cap();
    std::vector<std::string> ignored;
    const auto sets = oci::runtime::capsets_from_spec(*spec.process->capabilities, last, ignored);
    const uint64_t allowed = last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
    for (uint64_t s : {sets.bounding, sets.effective, sets.inheritable, sets.permitted, sets.ambient})
      CRIUS_FUZZ_CHECK((s & ~allowed) == 0);
  }
  if (!spec.linux_) return;
  const oci::Linux& l = *spec.linux_;
  if (!l.rootfs_propagation.empty())
    expect_errors_only([&] { oci::runtime::propagation_flag(l.rootfs_propagation); });
  if (l.seccomp) {
    expect_errors_only([&] {
      std::vector<std::string> skipped;
      auto filter = oci::runtime::SeccompFilter::build(*l.seccomp, skipped);
      CRIUS_FUZZ_CHECK(filter != nullptr);
    });
  }
  expect_errors_only([&] {
    const auto r = oci::cgroups::parse_resources(l.resources);
    std::vector<std::string> warnings;
    check_writes(oci::cgroups::v2_writes(r, warnings));
    check_writes(oci::cgroups::v2_writes(r, warnings, true));
    expect_errors_only([&] { check_writes(oci::cgroups::v1_writes(r, warnings)); });
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(crius::fuzz::text(data, size));
  try {
    derive(oci::parse_spec_text(in));
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
  }
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  if (!doc.is_discarded()) {
    try {
      oci::parse_process(doc.is_object() && doc.contains("process") ? doc["process"] : doc);
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
    }
  }
  return 0;
}
