// Runtime handlers: the OCI runtime a pod's runtime_handler names (the
// builtin library, or a runc-compatible binary), and what each supports, as
// Status reports it to kubelet.
#pragma once

#include <string>
#include <vector>

#include "conf/config.h"
#include "oci/monitor/client.h"
#include "sandbox/record.h"

namespace crius::container {

// The OCI runtime for a handler name ("" is the default handler);
// InvalidArgument when it is not configured, FailedPrecondition when its
// binary is missing. State roots live under `runtime_state`.
oci::monitor::Handler handler_for(const std::string& name, const conf::Config& conf, const std::string& runtime_state);
// The OCI runtime of a pod: the handler as it was defined when the pod was
// made (a reload that changes or removes it leaves the pod's containers on
// it); for a record without that, as handler_for its name.
oci::monitor::Handler handler_for(const sandbox::Record& pod, const conf::Config& conf,
                                  const std::string& runtime_state);

struct HandlerFeatures {
  std::string name;  // "" for the default handler
  bool recursive_read_only_mounts = false;
  bool user_namespaces = false;
};

// The default handler (as "") and every configured one. An external
// runtime's features come from its `features` command (run once per binary).
std::vector<HandlerFeatures> handler_features(const conf::Config& conf);

// FailedPrecondition naming the handler when it cannot run a pod with a user
// namespace of its own.
void require_user_namespaces(const std::string& name, const conf::Config& conf);

}  // namespace crius::container
