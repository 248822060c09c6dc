// Helpers shared by the ImageService end-to-end tests: the RPCs as one-line
// calls, and what a test inspects in the daemon's image store.
#pragma once

// daemon.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/daemon.h"
//
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fixtures/registry/image_builder.h"

namespace crius::test::image_e2e {

namespace v1 = runtime::v1;
using fixtures::Compression;

std::unique_ptr<grpc::ClientContext> ctx(int seconds = 60);

// One busybox layer (gzip) for the whole test binary: building it reads and
// compresses the busybox binary.
const fixtures::Layer& busybox();

struct PullResult {
  grpc::Status status;
  std::string id;
};
PullResult pull(Daemon& d, const std::string& image, const runtime::v1::AuthConfig* auth = nullptr,
                const runtime::v1::PodSandboxConfig* pod = nullptr);

// ImageStatus: nullopt when absent; `info` gets the verbose info when given.
std::optional<runtime::v1::Image> status(Daemon& d, const std::string& image, std::string* info = nullptr);
std::vector<runtime::v1::Image> list(Daemon& d, const std::string& filter = "");
grpc::Status remove(Daemon& d, const std::string& image);

// <root>/images/layers/<hex>/diff
std::string layer_dir(Daemon& d, const std::string& digest);
// Entries of the layer store and ingest dir that are not committed content.
std::vector<std::string> leftovers(Daemon& d);
// Committed layers in the layer store.
size_t count_layers(Daemon& d);

}  // namespace crius::test::image_e2e
