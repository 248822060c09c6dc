// The container's command line, environment and working directory.
#include <string_view>

#include "base/error.h"
#include "oci/cri/internal.h"

namespace crius::oci::cri::detail {
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

// Sets or replaces `kv`'s variable, keeping the first position it had.
void set_env(std::vector<std::string>& env, const std::string& kv) {
  const std::string key = env_key(kv);
  for (auto& e : env)
    if (env_key(e) == key) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

}  // namespace

std::vector<std::string> process_args(const ::runtime::v1::ContainerConfig& config, const ImageConfig& image) {
  std::vector<std::string> out;
  if (config.command_size() > 0) {
    // The command replaces the image's ENTRYPOINT, and its CMD goes with it.
    out.assign(config.command().begin(), config.command().end());
    out.insert(out.end(), config.args().begin(), config.args().end());
  } else {
    out = image.entrypoint;
    if (config.args_size() > 0) out.insert(out.end(), config.args().begin(), config.args().end());
    else out.insert(out.end(), image.cmd.begin(), image.cmd.end());
  }
  if (out.empty())
    throw InvalidArgument("container \"" + config.metadata().name() +
                          "\": no command: the config has neither command nor args and the image has no "
                          "ENTRYPOINT or CMD");
  return out;
}

std::vector<std::string> process_env(const ::runtime::v1::ContainerConfig& config, const ImageConfig& image,
                                     const std::string& hostname) {
  std::vector<std::string> env;
  // First, so that the image or the config can still set their own.
  if (!hostname.empty()) env.push_back("HOSTNAME=" + hostname);
  for (const auto& kv : image.env) set_env(env, kv);
  for (const auto& kv : config.envs()) {
    if (kv.key().empty()) throw InvalidArgument("envs: a variable has an empty name");
    set_env(env, kv.key() + "=" + kv.value());
  }
  bool has_path = false;
  for (const auto& e : env) has_path |= env_key(e) == "PATH";
  if (!has_path) env.push_back("PATH=" + std::string(kDefaultPath));
  return env;
}

std::string process_cwd(const ::runtime::v1::ContainerConfig& config, const ImageConfig& image) {
  if (!config.working_dir().empty()) {
    if (config.working_dir()[0] != '/')
      throw InvalidArgument("working_dir \"" + config.working_dir() + "\": must be an absolute path");
    return config.working_dir();
  }
  // Image configs sometimes carry a relative WorkingDir; it is meant from /.
  if (!image.working_dir.empty()) return image.working_dir[0] == '/' ? image.working_dir : "/" + image.working_dir;
  return "/";
}

}  // namespace crius::oci::cri::detail
