// Fuzzes what a registry serves as JSON during a pull: manifests and
// indexes (image::parse_manifest, under each Content-Type a registry may
// answer with, then select_platform as a pull does) and image configs
// (image::read_image_config).
// Invariants: a manifest that parses has a media type; every descriptor it
// holds has a well-formed sha256 digest and a size >= 0; an index has
// entries and no config or layers; select_platform returns one of the
// index's entries for the wanted os/architecture or throws NotFound; bad
// input is refused with InvalidArgument or FailedPrecondition (never another
// exception type); an image config is read or refused with InvalidArgument,
// and the user it names splits into a uid or a name.
#include <string>

#include "base/error.h"
#include "image/image_store.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace img = crius::image;

void check_descriptor(const img::Descriptor& d) {
  CRIUS_FUZZ_CHECK(img::is_sha256_digest(d.digest));
  CRIUS_FUZZ_CHECK(d.size >= 0);
}

void check_manifest(const img::Manifest& m) {
  CRIUS_FUZZ_CHECK(!m.media_type.empty());
  if (m.is_index) {
    CRIUS_FUZZ_CHECK(m.layers.empty() && m.config.digest.empty());
    for (const auto& d : m.manifests) check_descriptor(d);
    for (const img::Platform& want : {img::host_platform(), img::Platform{"linux", "arm64", "v8"},
                                      img::Platform{"linux", "arm", ""}}) {
      try {
        const img::Descriptor& d = img::select_platform(m, want);
        CRIUS_FUZZ_CHECK(&d >= m.manifests.data() && &d < m.manifests.data() + m.manifests.size());
        CRIUS_FUZZ_CHECK(d.platform.os == want.os && d.platform.architecture == want.architecture);
      } catch (const crius::Error& e) {
        CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::not_found);
      }
    }
  } else {
    CRIUS_FUZZ_CHECK(m.manifests.empty());
    check_descriptor(m.config);
    for (const auto& d : m.layers) check_descriptor(d);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(crius::fuzz::text(data, size));
  for (const char* type : {"", img::media::kOciManifest, img::media::kDockerList, "application/json"}) {
    try {
      check_manifest(img::parse_manifest(body, type));
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument ||
                       e.code() == crius::ErrorCode::failed_precondition);
    }
  }
  img::ImageRecord rec;
  try {
    img::read_image_config(body, rec);
    const img::ImageUser u = img::image_user(rec.user);
    CRIUS_FUZZ_CHECK(!(u.uid && !u.username.empty()));
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
  }
  return 0;
}
