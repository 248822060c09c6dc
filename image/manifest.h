// Manifests and indexes, OCI and Docker schema 2, and choosing this
// machine's platform from an index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crius::image {

namespace media {
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

struct Platform {
  std::string os, architecture, variant;
  std::string str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = -1;
  Platform platform;  // index entries only
};

struct Manifest {
  bool is_index = false;
  std::string media_type;
  Descriptor config;                // manifests
  std::vector<Descriptor> layers;   // manifests
  std::vector<Descriptor> manifests;  // indexes
};

// Parses a manifest or an index; `content_type` is the registry's
// Content-Type (the body's mediaType wins when set). Docker schema 1 and
// unknown kinds are refused with FailedPrecondition naming what was served.
Manifest parse_manifest(const std::string& body, const std::string& content_type);

// The platform crius runs on: linux and the Go name of this architecture.
Platform host_platform();

// The entry of `index` for `want`: os and architecture equal, and the
// variant when both name one (arm64 accepts "v8" or none). Throws NotFound
// listing every platform the index offers.
const Descriptor& select_platform(const Manifest& index, const Platform& want);

}  // namespace crius::image
