#include "client/status_command.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "client/cri_client.h"
#include "client/status_json.h"
#include "client/status_text.h"
#include "conf/load.h"

namespace crius::client {
namespace {

using conf::ConfigError;

// Exit codes.
constexpr int kFailed = 1, kUsage = 2;

struct Args {
  std::string sub, id;
  bool json = false, help = false;
  std::vector<std::string> conf_args;  // for conf::parse_args, argv[0] first
};

bool is_flag(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

// Every config flag takes a value; --flag=value carries it already.
bool takes_separate_value(const std::string& flag) {
  return flag.find('=') == std::string::npos && flag != "-v" && flag != "--version" && flag != "-h" &&
         flag != "--help" && flag != "--json";
}

// The status flags are taken here; every other flag (--config, --listen, any
// config key) is left to conf::parse_args, so that the socket comes from the
// same config the daemon reads. --socket is --listen under the name an
// operator looks for.
Args split_args(int argc, const char* const argv[]) {
  Args a;
  a.conf_args.push_back(argc > 0 ? argv[0] : "crius");
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      a.json = true;
    } else if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (arg == "--socket" || arg.starts_with("--socket=")) {
      if (arg == "--socket" && (i + 1 >= argc || is_flag(argv[i + 1]))) throw ConfigError("--socket: missing value");
      a.conf_args.push_back("--listen" + arg.substr(std::string("--socket").size()));
      if (arg == "--socket") a.conf_args.push_back(argv[++i]);
    } else if (is_flag(arg)) {
      a.conf_args.push_back(arg);
      if (takes_separate_value(arg) && i + 1 < argc && !is_flag(argv[i + 1])) a.conf_args.push_back(argv[++i]);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() > 2) throw ConfigError(positional[2] + ": unexpected argument");
  if (!positional.empty()) a.sub = positional[0];
  if (positional.size() > 1) a.id = positional[1];
  return a;
}

void print(std::ostream& out, bool json, const Doc& doc, std::string (*text)(const Doc&)) {
  if (json)
    out << doc.dump(2) << "\n";
  else
    out << text(doc);
}

int run(const Args& a, CriClient& cri, std::ostream& out) {
  if (a.sub == "info") {
    InfoAnswers answers{.socket = cri.socket(),
                        .version = cri.version(),
                        .status = cri.status(true),
                        .runtime_config = cri.runtime_config(),
                        .fs = cri.image_fs_info(),
                        .pods = cri.list_pods(),
                        .containers = cri.list_containers()};
    print(out, a.json, info_document(answers), info_text);
  } else if (a.sub == "config") {
    print(out, a.json, config_document(cri.status(true)), config_text);
  } else if (a.sub == "containers" && a.id.empty()) {
    print(out, a.json, containers_document(cri.list_containers(), cri.list_pods()), containers_text);
  } else if (a.sub == "containers") {
    print(out, a.json, container_document(cri.container_status(a.id, true)), container_text);
  } else if (a.sub == "pods" && a.id.empty()) {
    print(out, a.json, pods_document(cri.list_pods(), cri.list_containers()), pods_text);
  } else if (a.sub == "pods") {
    print(out, a.json, pod_document(cri.pod_status(a.id, true)), pod_text);
  } else {
    print(out, a.json, images_document(cri.list_images()), images_text);
  }
  return 0;
}

}  // namespace

std::string status_usage() {
  return "Usage: crius status SUBCOMMAND [ID] [--json] [--socket PATH] [flags]\n"
         "\n"
         "Asks the running crius daemon over its CRI socket and prints what it reports.\n"
         "\n"
         "Subcommands:\n"
         "  info              version, cgroups, runtime handlers, CNI network, storage, pod and\n"
         "                    container counts\n"
         "  config            the daemon's effective config, as it holds it now (after any reload)\n"
         "  containers [ID]   a table of containers; with an ID or unique ID prefix, its details\n"
         "                    (monitor pid, cgroup, rootfs mount, the pod's namespaces)\n"
         "  pods [ID]         a table of pods; with an ID or unique ID prefix, its details\n"
         "  images            the images with their tags and sizes\n"
         "\n"
         "Flags:\n"
         "  --json            print one JSON document instead of text\n"
         "  --socket PATH     the daemon's CRI socket (default: listen of the config, as for\n"
         "                    the daemon: --config, --config-dir, --state and --listen count)\n";
}

bool take_status_command(std::vector<const char*>& argv) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string arg = argv[i];
    if (is_flag(arg)) {
      if (takes_separate_value(arg) && i + 1 < argv.size() && !is_flag(argv[i + 1])) ++i;
      continue;
    }
    if (arg != "status") return false;
    argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(i));
    argv.insert(argv.begin() + 1, "status");
    return true;
  }
  return false;
}

int status_main(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
  Args a;
  conf::Options options;
  try {
    a = split_args(argc, argv);
    if (a.help) {
      out << status_usage();
      return 0;
    }
    static const char* const kSubs[] = {"info", "config", "containers", "pods", "images"};
    if (a.sub.empty()) throw ConfigError("missing subcommand (info, config, containers, pods or images)");
    if (std::find(std::begin(kSubs), std::end(kSubs), a.sub) == std::end(kSubs))
      throw ConfigError(a.sub + ": unknown subcommand (info, config, containers, pods or images)");
    if (!a.id.empty() && a.sub != "containers" && a.sub != "pods")
      throw ConfigError(a.id + ": unexpected argument (status " + a.sub + " takes no ID)");
    std::vector<const char*> conf_argv;
    for (const auto& s : a.conf_args) conf_argv.push_back(s.c_str());
    options = conf::parse_args(static_cast<int>(conf_argv.size()), conf_argv.data());
  } catch (const std::exception& e) {
    err << "crius status: " << e.what() << "\nRun 'crius status --help' for usage.\n";
    return kUsage;
  }
  try {
    // The client's own config only says where the socket is; what the
    // daemon runs with comes from the daemon.
    CriClient cri(conf::load(options).listen);
    return run(a, cri, out);
  } catch (const CallError& e) {
    if (e.code() == grpc::StatusCode::NOT_FOUND && !a.id.empty())
      err << "crius status: no " << (a.sub == "pods" ? "pod" : "container") << " with ID or ID prefix " << a.id
          << " (" << e.what() << ")\n";
    else
      err << "crius status: " << e.what() << "\n";
    return kFailed;
  } catch (const std::exception& e) {
    err << "crius status: " << e.what() << "\n";
    return kFailed;
  }
}

}  // namespace crius::client
