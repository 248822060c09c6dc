// A pull, as crius-pull runs it for the daemon: the reference resolved
// (short-name candidates, mirrors), the platform manifest chosen, and the
// config, the manifest and every layer stored under <images_dir> (blobs
// verified, layers unpacked in parallel while they stream in and checked
// against the config's diff_ids). Concurrent pulls, in this process or in
// others, fetch each blob and layer once (key_lock.h). The image record is
// not written here: the daemon does that once the result says what to name.
#pragma once

#include <string>

#include "conf/config.h"
#include "image/content_store.h"
#include "image/manifest.h"
#include "image/pull/registry_client.h"
#include "image/pull_protocol.h"

namespace crius::image {

class Puller {
 public:
  // What is not whole yet is written under `scratch_dir` (PullRequest's).
  Puller(const std::string& images_dir, std::string scratch_dir, std::string certs_dir, PullEvents events);

  // Throws NotFound when no candidate has the image, and the registry's or
  // the store's errors otherwise.
  PullResult pull(const std::string& image, const Credentials& creds, const conf::ImageConfig& config,
                  const PullContext& context);

 private:
  struct Resolved;
  class Progress;
  PullResult pull_one(const Reference& ref, const Credentials& creds, const conf::ImageConfig& config,
                      const PullContext& context);
  Resolved resolve(const Reference& ref, const Target& target, const RegistryClient::Call& call);
  void fetch_blob(const RegistryClient::Call& call, const Descriptor& d, Progress& progress);
  // Fetches and unpacks one layer, checking its uncompressed digest against
  // `diff_id` (from the image config; empty: not checked).
  void fetch_layer(const RegistryClient::Call& call, const Descriptor& d, const std::string& diff_id,
                   Progress& progress);
  bool has_layer(const std::string& digest) const;

  std::string dir_;
  std::string scratch_;
  ContentStore content_;
  RegistryClient client_;
  PullEvents events_;
};

// A PullRunner that pulls in this process (tests; the daemon runs crius-pull).
PullRunner in_process_pull_runner();

}  // namespace crius::image
