// Checks of hostile CRI input, made at the top of an RPC before anything is
// created (no record, directory, mount or monitor): names that could split
// a path or a CNI_ARGS entry, log paths that leave the pod's log directory,
// host paths that a symbolic link turns into /proc, /sys or the daemon's own
// directories, and sizes no kubelet sends. Each throws crius::Error
// (InvalidArgument) naming the request field ("config.log_path: …").
//
// They add to the checks the layers below make (empty names, namespace
// modes, mount options, sysctls…), which still run; these come first so that
// a refusal leaves nothing behind. Never stricter than what a kubelet sends:
// each limit says why kubelet stays under it.
#pragma once

#include <string>

#include "api/cri.pb.h"
#include "conf/config.h"

namespace crius::server {

// RunPodSandbox's config: metadata, log_directory, DNS entries, label and
// annotation sizes.
void check_pod_config(const ::runtime::v1::PodSandboxConfig& config);

// CreateContainer's config: metadata.name, log_path, mounts (paths, and
// where a host path's links lead, against daemon.root and daemon.state),
// envs/command/args against what execve(2) takes, label, annotation and
// image reference sizes.
void check_container_config(const ::runtime::v1::ContainerConfig& config, const conf::Config& daemon);

// ExecSync's and Exec's cmd: what execve(2) takes.
void check_exec_cmd(const google::protobuf::RepeatedPtrField<std::string>& cmd);

// An image reference (PullImage, ImageStatus, RemoveImage), `field` naming
// it: not longer than any valid reference can be.
void check_image_ref(const std::string& ref, const std::string& field);

}  // namespace crius::server
