// The documents `crius status` prints, built from the daemon's answers. Each
// is one JSON document (what --json prints as is); status_text.h renders the
// same documents for a person. Pure: no I/O, so unit tests feed them answers.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/cri.pb.h"

namespace crius::client {

namespace v1 = runtime::v1;
using Doc = nlohmann::ordered_json;

// What `status info` asks the daemon.
struct InfoAnswers {
  std::string socket;
  v1::VersionResponse version;
  v1::StatusResponse status;  // verbose
  v1::RuntimeConfigResponse runtime_config;
  v1::ImageFsInfoResponse fs;
  v1::ListPodSandboxResponse pods;
  v1::ListContainersResponse containers;
};

// A verbose info value: the daemon writes JSON text; anything else stays a string.
Doc parse_info_value(const std::string& value);
// Nanoseconds since the epoch as RFC 3339 in UTC ("2026-01-02T03:04:05Z"); "" for 0.
std::string timestamp_text(int64_t ns);
// "running", "exited"…; "ready"/"notready" for pods.
std::string state_name(v1::ContainerState);
std::string state_name(v1::PodSandboxState);

Doc info_document(const InfoAnswers&);
// The daemon's effective config (verbose Status' info["config"]); throws
// std::runtime_error when the daemon does not report one.
Doc config_document(const v1::StatusResponse&);
Doc containers_document(const v1::ListContainersResponse&, const v1::ListPodSandboxResponse&);
Doc container_document(const v1::ContainerStatusResponse&);
Doc pods_document(const v1::ListPodSandboxResponse&, const v1::ListContainersResponse&);
Doc pod_document(const v1::PodSandboxStatusResponse&);
Doc images_document(const v1::ListImagesResponse&);

}  // namespace crius::client
