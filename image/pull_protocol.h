// What the daemon and crius-pull, the process that pulls for it, say to each
// other. Pulls run outside the daemon so that it never maps libcurl, TLS or
// libarchive, nor parses manifests, tars or compressed streams a registry
// serves (it reads only the image config, once the helper checked its
// digest): each pull's memory goes back to the system when it ends. The daemon writes one request (JSON) to the
// helper's stdin; the helper writes one JSON object per line to its stdout:
//   {"bytes":N}          blob bytes received since the last such line
//   {"layer_reused":1}   a layer already present was not fetched
//   {"result":{…}}       the last line of a pull that worked
//   {"error":{"code":C,"message":"…"}}  the last line of one that failed
// The helper stores blobs and layers; the image record, and with it what an
// image is, stays the daemon's to write (Images::pull).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "conf/config.h"
#include "image/credentials.h"

namespace crius::image {

// Who a pull is for (the CRI PullImageRequest.sandbox_config), named in the
// pull's log lines; empty for a pull outside any pod (crictl pull).
struct PullContext {
  std::string pod;      // namespace/name
  std::string pod_uid;
};

struct PullRequest {
  std::string image;       // as the client typed it
  Credentials creds;
  conf::ImageConfig config;
  PullContext context;
  std::string images_dir;   // <root>/images
  // Where the pull writes what is not whole yet (layers being unpacked,
  // blobs being received), on the store's filesystem; the daemon removes it
  // once the pull ended, however it ended.
  std::string scratch_dir;
  std::string certs_dir;    // <config dir>/certs.d
};

// What a pull stored: the blobs (config, platform manifest) and the layers,
// all present when it answered.
struct PullResult {
  std::string ref;              // the candidate that was found, fully qualified
  std::string tagged;           // its tagged name ("" when pulled by digest)
  std::string digested;         // its name @ the digest the tag pointed at
  std::string manifest_digest;  // the platform manifest's
  std::string config_digest;    // the image ID
  std::vector<std::string> layers;
  uint64_t size = 0;            // config and layer blobs, as the manifest gives them
};

// Hooks for the daemon's metrics.
struct PullEvents {
  std::function<void(uint64_t)> bytes;  // blob bytes received from a registry
  std::function<void()> layer_reused;   // a layer already present was not fetched
};

// Runs one pull: crius-pull in the daemon (pull_helper.h), or in this
// process for tests (image/pull/puller.h). Throws the pull's Error.
using PullRunner = std::function<PullResult(const PullRequest&, const PullEvents&)>;

std::string encode(const PullRequest& r);
// Throws Internal naming what is missing or malformed, or a request of
// another version.
PullRequest decode_request(const std::string& json);

std::string result_line(const PullResult& r);
std::string error_line(const Error& e);
std::string bytes_line(uint64_t n);
std::string layer_reused_line();

// One line of the helper's, taken apart: exactly one of the members is set.
struct PullMessage {
  uint64_t bytes = 0;
  bool layer_reused = false;
  std::optional<PullResult> result;
  std::optional<Error> error;
};
// Throws Internal naming the line when it is none of the above, or a result
// with a digest or name that is not one.
PullMessage decode_message(const std::string& line);

}  // namespace crius::image
