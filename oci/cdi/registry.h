// The CDI devices the spec directories define. Each directory is read in
// name order, its subdirectories skipped, and only its ".json" and ".yaml"
// regular files (or links to one) count. When two files define the same fully qualified device, the
// one in the later directory wins; two in the same directory are a conflict,
// and neither is used (both files are reported). A file that does not parse
// is reported with the reason, and the others still load. A directory that
// does not exist defines nothing.
//
// The Registry watches the directories (inotify, as the CNI config dir is
// watched) and reads them again at the next lookup after a change, so a
// spec file added, changed or removed is seen without a restart.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/dir_watch.h"
#include "oci/cdi/spec.h"

namespace crius::oci::cdi {

struct KnownDevice {
  std::shared_ptr<const Spec> spec;  // the file that defines it
  const Device* device = nullptr;    // within *spec
};

struct SpecProblem {
  std::string path;    // the file (or directory) that could not be used
  std::string reason;
};

struct Catalog {
  std::vector<std::string> dirs;
  std::map<std::string, KnownDevice> devices;  // by fully qualified name
  std::vector<SpecProblem> problems;
};

// Reads the directories now, lowest priority first.
Catalog scan(const std::vector<std::string>& dirs);

// {"specDirs": [...], "devices": [{"name", "spec"}], "specErrors": [{"path", "error"}]},
// for the Status RPC's verbose info.
nlohmann::json describe(const Catalog& catalog);

// One device a container asks for, and where it asked (for error messages:
// "CDI_devices[0]", "annotation cdi.k8s.io/gpu").
struct Request {
  std::string name;
  std::string origin;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // The catalog of `dirs` as last read; read again when a watch saw a change
  // since, or when `dirs` differ from the last call's (a reloaded config).
  // Thread-safe.
  std::shared_ptr<const Catalog> catalog(const std::vector<std::string>& dirs);

  // Applies the edits of the requested devices (and of their specs) to the
  // OCI spec `oci`. Throws crius::Error: InvalidArgument for a malformed
  // name or edits of two devices that conflict, NotFound naming every
  // device no spec file defines, FailedPrecondition for a host device node
  // that cannot be read. On a throw `oci` is unchanged.
  void inject(nlohmann::json& oci, const std::vector<Request>& requests, const std::vector<std::string>& dirs);

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
  std::vector<std::unique_ptr<DirWatch>> watches_;  // null where a watch could not be placed
  std::vector<uint64_t> generations_;
  std::shared_ptr<const Catalog> catalog_;
};

}  // namespace crius::oci::cdi
