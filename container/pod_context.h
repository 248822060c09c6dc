// What a container's spec is built from besides its own config: the pod it
// joins (namespaces, files, cgroup), the image's config, the daemon's
// defaults, and the runtime handler its pod runs under.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conf/config.h"
#include "container/record.h"
#include "image/image_store.h"
#include "image/images.h"
#include "oci/cri/spec_builder.h"
#include "sandbox/record.h"

namespace crius::container {

// The pod's config as kubelet sent it (kept by the sandbox record).
runtime::v1::PodSandboxConfig pod_sandbox_config(const sandbox::Record& pod);

// `target_pid` finds the init pid of a container by ID (for pid: TARGET).
oci::cri::PodContext pod_context(const sandbox::Record& pod, const runtime::v1::ContainerConfig& config,
                                 const std::function<int(const std::string&)>& target_pid);

// For a pod with a user namespace of its own: how its containers' overlay
// roots are idmapped (Images::mount_rootfs), nullopt for a pod without one.
// Made by the daemon, not the runtime, so that it works the same for every
// handler (an OCI runtime has no way to idmap root.path).
std::optional<image::Images::RootfsIdmap> rootfs_idmap(const sandbox::Record& pod);
// The directories from `top` (crius' root) down to the container's root
// filesystem become searchable by others (o+x, not readable): the pod's root
// is an unprivileged user of the node, and the runtime binds the root from
// inside the pod's user namespace.
void open_path_to_rootfs(const std::string& rootfs, const std::string& top);

// The pod's cgroup directory in each mounted hierarchy that has it.
std::vector<std::string> pod_cgroup_dirs(const sandbox::Record& pod);

oci::cri::Defaults spec_defaults(const conf::Config& conf);
oci::cri::ImageConfig image_config_of(const image::ImageRecord& image);
// The repo tag matching what was asked for, else the first tag, else the request.
std::string image_name_for(const image::ImageRecord& image, const std::string& requested);

// The process object of an ExecSync: the container's own process (user,
// env, cwd, capabilities…) with `cmd` as args and no terminal.
nlohmann::json exec_process_for(const Record& rec, const std::vector<std::string>& cmd);

}  // namespace crius::container
