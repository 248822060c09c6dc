#include "image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "image/content_store.h"

namespace crius::image {
namespace {

using nlohmann::json;

Descriptor descriptor(const json& j, const char* what) {
  Descriptor d;
  d.media_type = j.value("mediaType", "");
  d.digest = j.at("digest").get<std::string>();
  if (auto s = j.find("size"); s != j.end()) {
    // Integers only: a float is never cast (1e300 does not fit).
    if (!s->is_number_integer()) throw InvalidArgument(std::string(what) + " " + d.digest + ": size is not an integer");
    d.size = s->get<int64_t>();
  }
  check_digest(d.digest);
  if (d.size < 0) throw InvalidArgument(std::string(what) + " " + d.digest + " has no size");
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.platform.os = p->value("os", "");
    d.platform.architecture = p->value("architecture", "");
    d.platform.variant = p->value("variant", "");
  }
  return d;
}

}  // namespace

Manifest parse_manifest(const std::string& body, const std::string& content_type) {
  json j;
  try {
    j = json::parse(body);
  } catch (const std::exception& e) {
    throw InvalidArgument(std::string("manifest is not JSON: ") + e.what());
  }
  if (!j.is_object()) throw InvalidArgument("manifest is not a JSON object");
  int64_t version = 0;
  std::string type;
  try {
    if (auto v = j.find("schemaVersion"); v != j.end() && !v->is_null()) {
      if (!v->is_number_integer()) throw InvalidArgument("malformed manifest: schemaVersion is not an integer");
      version = v->get<int64_t>();
    }
    type = j.value("mediaType", "");
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed manifest: ") + e.what());
  }
  if (type.empty()) type = content_type;
  if (version == 1 || type.find("distribution.manifest.v1") != std::string::npos)
    throw FailedPrecondition("the registry served a Docker schema 1 manifest (" + type +
                             "), which crius does not support; push the image as schema 2 or OCI");
  Manifest m;
  m.media_type = type;
  try {
    if (j.contains("manifests") && !j.contains("layers")) {
      m.is_index = true;
      for (const auto& d : j.at("manifests")) m.manifests.push_back(descriptor(d, "index entry"));
      if (type.empty()) m.media_type = media::kOciIndex;
      return m;
    }
    if (!j.contains("config") || !j.contains("layers"))
      throw FailedPrecondition("unsupported manifest type \"" + type + "\": neither an image manifest nor an index");
    m.config = descriptor(j.at("config"), "config");
    for (const auto& d : j.at("layers")) m.layers.push_back(descriptor(d, "layer"));
    if (type.empty()) m.media_type = media::kOciManifest;
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("malformed manifest: ") + e.what());
  }
  return m;
}

Platform host_platform() {
  struct utsname u;
  ::uname(&u);
  const std::string machine = u.machine;
  Platform p{"linux", machine, ""};
  if (machine == "x86_64") p.architecture = "amd64";
  else if (machine == "aarch64") p = {"linux", "arm64", "v8"};
  else if (machine == "armv7l") p = {"linux", "arm", "v7"};
  else if (machine == "armv6l") p = {"linux", "arm", "v6"};
  else if (machine == "i686" || machine == "i386") p.architecture = "386";
  else if (machine == "ppc64le") p.architecture = "ppc64le";
  else if (machine == "s390x") p.architecture = "s390x";
  else if (machine == "riscv64") p.architecture = "riscv64";
  return p;
}

const Descriptor& select_platform(const Manifest& index, const Platform& want) {
  const Descriptor* loose = nullptr;
  for (const auto& d : index.manifests) {
    if (d.platform.os != want.os || d.platform.architecture != want.architecture) continue;
    if (d.platform.variant == want.variant) return d;
    const bool arm64_default = want.architecture == "arm64" && (d.platform.variant.empty() || d.platform.variant == "v8");
    if (!loose && (want.variant.empty() || d.platform.variant.empty() || arm64_default)) loose = &d;
  }
  if (loose) return *loose;
  std::string offered;
  for (const auto& d : index.manifests)
    offered += (offered.empty() ? "" : ", ") + (d.platform.os.empty() ? std::string("unknown") : d.platform.str());
  throw NotFound("no manifest for platform " + want.str() + " in the index; it offers: " +
                 (offered.empty() ? "nothing" : offered));
}

}  // namespace crius::image
