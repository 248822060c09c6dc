// Fuzzes what crius reads from the CNI side: network config files
// (cni::parse_network, as a .conflist and as a .conf), a plugin's answer
// (cni::plugin_answer and result_ips, as after ADD/DEL), the cached entry of
// an attachment read back by CHECK, DEL and the start-up GC (Cni::check,
// del, gc over a cache file holding the input), and the pod CIDR kubelet
// sends (parse_pod_cidrs).
// Invariants: a network that parses has a name, a supported cniVersion and
// plugins that are objects with a non-empty string type, and its list form
// parses back to the same network; an answer is a JSON object for ADD and
// null otherwise, a failed run always throws Internal; result IPs carry no
// prefix length and list IPv4 before IPv6; the cache readers throw only
// crius::Error and GC throws nothing; pod CIDRs come out canonical (parsing
// them again gives them back). No plugin is ever run: the configured plugin
// directories are empty, and plugin directories named by the cache entry
// are rewritten to a directory that does not exist.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "cni/config.h"
#include "cni/network.h"
#include "cni/pod_cidr.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace cni = crius::cni;
using nlohmann::json;

void check_network(const cni::NetworkList& n) {
  CRIUS_FUZZ_CHECK(!n.name.empty() && cni::supported_version(n.cni_version));
  CRIUS_FUZZ_CHECK(!n.plugins.empty());
  for (const json& p : n.plugins) {
    CRIUS_FUZZ_CHECK(p.is_object() && p.contains("type") && p["type"].is_string());
    CRIUS_FUZZ_CHECK(!p["type"].get<std::string>().empty());
  }
  const cni::NetworkList again = cni::parse_network(n.to_json().dump(), "again.conflist");
  CRIUS_FUZZ_CHECK(again.name == n.name && again.cni_version == n.cni_version &&
                   again.disable_check == n.disable_check && again.plugins == n.plugins);
}

void fuzz_configs(const std::string& in) {
  for (const char* file : {"10-fuzz.conflist", "10-fuzz.conf"}) {
    try {
      check_network(cni::parse_network(in, file));
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
    }
  }
}

void fuzz_answer(const std::string& in) {
  for (const char* command : {"ADD", "DEL"}) {
    crius::ProcessResult ok;
    ok.exit_code = 0;
    ok.out = in;
    try {
      const json result = cni::plugin_answer("CNI plugin fuzz", command, ok);
      CRIUS_FUZZ_CHECK(std::string(command) == "ADD" ? result.is_object() : result.is_null());
      bool seen_v6 = false;
      for (const std::string& ip : cni::result_ips(result)) {
        CRIUS_FUZZ_CHECK(ip.find('/') == std::string::npos);
        const bool v6 = ip.find(':') != std::string::npos;
        CRIUS_FUZZ_CHECK(v6 || !seen_v6);
        seen_v6 = seen_v6 || v6;
      }
    } catch (const crius::Error& e) {
      CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::internal);
    }
  }
  crius::ProcessResult failed;
  failed.exit_code = 1;
  failed.out = in;
  failed.err = in.substr(0, in.size() / 2);
  try {
    cni::plugin_answer("CNI plugin fuzz", "ADD", failed);
    CRIUS_FUZZ_CHECK(false);
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::internal);
  }
}

// The input as a cache entry, its plugin directories pointed nowhere so
// that DEL can find no binary to run.
std::string defused_entry(const std::string& in) {
  json j = json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("pluginDirs") || !j["pluginDirs"].is_array()) return in;
  j["pluginDirs"] = json::array({"/nonexistent/crius-fuzz-plugins"});
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A private cache directory, removed at exit.
struct CacheDir {
  std::string dir = [] {
    char tmpl[] = "/tmp/crius-cni-fuzz-XXXXXX";
    CRIUS_FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    return std::string(tmpl);
  }();
  cni::Cni net{dir + "/cache", std::chrono::seconds(1)};
  ~CacheDir() { crius::remove_all(dir); }
};

void fuzz_cache(const std::string& in) {
  static CacheDir cache;
  const std::string& dir = cache.dir;
  cni::Cni& net = cache.net;
  crius::conf::NetworkConfig config;
  config.cni_config_dir = dir + "/net.d";  // absent: GC asks no plugin
  config.cni_plugin_dirs = {};
  const std::string entry = defused_entry(in);
  const std::string path = dir + "/cache/fuzzpod-eth0.json";
  crius::write_file(path, entry, O_CREAT | O_TRUNC);
  try {
    net.check(config, "fuzzpod", "eth0");
  } catch (const crius::Error&) {
  }
  try {
    net.del(config, "fuzzpod", "eth0");
  } catch (const crius::Error&) {
  }
  crius::write_file(path, entry, O_CREAT | O_TRUNC);
  net.gc(config, {});
  ::unlink(path.c_str());
}

void fuzz_pod_cidrs(const std::string& in) {
  try {
    const auto cidrs = cni::parse_pod_cidrs(in);
    CRIUS_FUZZ_CHECK(cidrs.size() <= 2);
    std::string joined;
    for (const auto& c : cidrs) joined += (joined.empty() ? "" : ",") + c;
    CRIUS_FUZZ_CHECK(cni::parse_pod_cidrs(joined) == cidrs);
    CRIUS_FUZZ_CHECK(cni::ip_ranges(cidrs).size() == cidrs.size());
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crius::log::set_level(crius::log::Level::error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(crius::fuzz::text(data, size));
  fuzz_configs(in);
  fuzz_answer(in);
  fuzz_cache(in);
  fuzz_pod_cidrs(in);
  return 0;
}
