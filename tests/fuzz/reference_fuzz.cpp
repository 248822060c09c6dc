// Fuzzes image references as CRI clients send them (PullImage, ImageStatus,
// CreateContainer): image::parse_reference and resolve_candidates.
// Invariants: a reference that parses has a domain, a path, and a tag or a
// sha256 digest; its printed form parses back to the same reference (also
// when parsed with another default registry); every short-name candidate
// does too; anything refused is refused with InvalidArgument.
#include <string>
#include <vector>

#include "base/error.h"
#include "image/reference.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using crius::image::Reference;

void check_round_trip(const Reference& r) {
  CRIUS_FUZZ_CHECK(!r.domain.empty() && !r.path.empty());
  CRIUS_FUZZ_CHECK(!r.tag.empty() || !r.digest.empty());
  CRIUS_FUZZ_CHECK(r.digest.empty() || crius::image::is_sha256_digest(r.digest));
  CRIUS_FUZZ_CHECK(r.name().size() <= 255);
  const std::string printed = r.str();
  const Reference again = crius::image::parse_reference(printed);
  CRIUS_FUZZ_CHECK(again == r);
  CRIUS_FUZZ_CHECK(crius::image::parse_reference(printed, "registry.example:5000") == r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = crius::fuzz::text(data, size);
  for (std::string_view domain : {"docker.io", "registry.example:5000"}) {
    try {
      check_round_trip(crius::image::parse_reference(in, domain));
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
    }
  }
  try {
    const std::vector<std::string> search = {"docker.io", "quay.io", "[fd00::1]:5000"};
    for (const Reference& r : crius::image::resolve_candidates(in, search)) check_round_trip(r);
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
  }
  return 0;
}
