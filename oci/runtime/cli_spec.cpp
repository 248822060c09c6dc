// spec [--rootless]: write runc's default config.json into the bundle.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "oci/runtime/cli_internal.h"
#include "oci/runtime/defaults.h"

namespace crius::oci::runtime::cli {

int cmd_spec(const std::string&, const ParsedArgs& a) {
  const std::string path = a.get("bundle", ".") + "/config.json";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) throw AlreadyExists("File " + path + " exists. Remove it first");
  auto spec = default_spec();
  if (a.has("rootless")) spec = rootless_spec(std::move(spec), ::geteuid(), ::getegid());
  write_file(path, spec.dump(4) + "\n", O_CREAT | O_EXCL);
  return 0;
}

}  // namespace crius::oci::runtime::cli
