#include "image/pull_protocol.h"

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "image/content_store.h"
#include "image/reference.h"

namespace crius::image {
namespace {

using nlohmann::json;

// Bumped with any change of the request's or the lines' keys: a daemon and a
// crius-pull of different builds (an upgrade under a running daemon) refuse
// each other's words rather than misread them.
constexpr int kVersion = 1;

// Error texts may hold bytes that are not UTF-8 (a tar entry's name, a
// registry's answer cut short): they are sent with those bytes replaced
// rather than not at all.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Credentials are any bytes a client sent (AuthConfig.auth decodes to
// whatever it holds): hex keeps them exact.
std::string unhex(const std::string& s) {
  auto bytes = hex_decode(s);
  if (!bytes) throw Internal("pull request: credentials are not hex");
  return *bytes;
}

json registry_json(const conf::Registry& r) {
  json mirrors = json::array();
  for (const auto& m : r.mirrors) mirrors.push_back({{"location", m.location}, {"insecure", m.insecure}});
  return {{"prefix", r.prefix}, {"location", r.location}, {"insecure", r.insecure}, {"mirrors", mirrors}};
}

conf::Registry registry_from(const json& j) {
  conf::Registry r;
  r.prefix = j.at("prefix").get<std::string>();
  r.location = j.at("location").get<std::string>();
  r.insecure = j.at("insecure").get<bool>();
  for (const auto& m : j.at("mirrors")) r.mirrors.push_back({m.at("location").get<std::string>(), m.at("insecure").get<bool>()});
  return r;
}

json result_json(const PullResult& r) {
  return {{"ref", r.ref},
          {"tagged", r.tagged},
          {"digested", r.digested},
          {"manifest_digest", r.manifest_digest},
          {"config_digest", r.config_digest},
          {"layers", r.layers},
          {"size", r.size}};
}

// The daemon names files and records after what the helper, which parses
// what registries serve, says: each digest and name is checked first.
PullResult result_from(const json& j) {
  PullResult r;
  r.ref = j.at("ref").get<std::string>();
  r.tagged = j.at("tagged").get<std::string>();
  r.digested = j.at("digested").get<std::string>();
  r.manifest_digest = j.at("manifest_digest").get<std::string>();
  r.config_digest = j.at("config_digest").get<std::string>();
  r.layers = j.at("layers").get<std::vector<std::string>>();
  r.size = j.at("size").get<uint64_t>();
  for (const auto* name : {&r.ref, &r.tagged, &r.digested})
    if (!name->empty()) parse_reference(*name);
  check_digest(r.manifest_digest);
  check_digest(r.config_digest);
  for (const auto& l : r.layers) check_digest(l);
  return r;
}

}  // namespace

std::string encode(const PullRequest& r) {
  json registries = json::array();
  for (const auto& reg : r.config.registries) registries.push_back(registry_json(reg));
  json j = {{"version", kVersion},
            {"image", r.image},
            {"creds",
             {{"username", hex_encode(r.creds.username)},
              {"password", hex_encode(r.creds.password)},
              {"identity_token", hex_encode(r.creds.identity_token)},
              {"registry_token", hex_encode(r.creds.registry_token)}}},
            {"config",
             {{"registries", registries},
              {"short_name_search", r.config.short_name_search},
              {"pull_progress_timeout_ms", r.config.pull_progress_timeout.count()},
              {"max_parallel_layers", r.config.max_parallel_layers}}},
            {"context", {{"pod", r.context.pod}, {"pod_uid", r.context.pod_uid}}},
            {"images_dir", r.images_dir},
            {"scratch_dir", r.scratch_dir},
            {"certs_dir", r.certs_dir}};
  return dump(j);
}

PullRequest decode_request(const std::string& text) {
  try {
    const json j = json::parse(text);
    if (j.at("version").get<int>() != kVersion)
      throw Internal("pull request of version " + std::to_string(j.at("version").get<int>()) + ", this crius-pull speaks " +
                     std::to_string(kVersion) + " (crius and crius-pull are of different builds)");
    PullRequest r;
    r.image = j.at("image").get<std::string>();
    const json& c = j.at("creds");
    r.creds.username = unhex(c.at("username").get<std::string>());
    r.creds.password = unhex(c.at("password").get<std::string>());
    r.creds.identity_token = unhex(c.at("identity_token").get<std::string>());
    r.creds.registry_token = unhex(c.at("registry_token").get<std::string>());
    const json& conf = j.at("config");
    for (const auto& reg : conf.at("registries")) r.config.registries.push_back(registry_from(reg));
    r.config.short_name_search = conf.at("short_name_search").get<std::vector<std::string>>();
    r.config.pull_progress_timeout = std::chrono::milliseconds(conf.at("pull_progress_timeout_ms").get<int64_t>());
    r.config.max_parallel_layers = conf.at("max_parallel_layers").get<int>();
    r.context.pod = j.at("context").at("pod").get<std::string>();
    r.context.pod_uid = j.at("context").at("pod_uid").get<std::string>();
    r.images_dir = j.at("images_dir").get<std::string>();
    r.scratch_dir = j.at("scratch_dir").get<std::string>();
    r.certs_dir = j.at("certs_dir").get<std::string>();
    return r;
  } catch (const json::exception& e) {
    // The daemon's own words: a mistake here is the runtime's, not the client's.
    throw Internal(std::string("pull request: ") + e.what());
  }
}

std::string result_line(const PullResult& r) { return dump({{"result", result_json(r)}}) + "\n"; }

std::string error_line(const Error& e) {
  return dump({{"error", {{"code", static_cast<int>(e.code())}, {"message", e.what()}}}}) + "\n";
}

std::string bytes_line(uint64_t n) { return dump({{"bytes", n}}) + "\n"; }

std::string layer_reused_line() { return "{\"layer_reused\":1}\n"; }

PullMessage decode_message(const std::string& line) {
  PullMessage m;
  try {
    const json j = json::parse(line);
    if (j.contains("bytes")) {
      m.bytes = j.at("bytes").get<uint64_t>();
    } else if (j.contains("layer_reused")) {
      m.layer_reused = true;
    } else if (j.contains("result")) {
      m.result = result_from(j.at("result"));
    } else if (j.contains("error")) {
      const int code = j.at("error").at("code").get<int>();
      if (code < 0 || code > static_cast<int>(ErrorCode::internal)) throw Internal("unknown error code");
      m.error = Error(static_cast<ErrorCode>(code), j.at("error").at("message").get<std::string>());
    } else {
      throw Internal("no known key");
    }
    return m;
  } catch (const std::exception& e) {
    throw Internal("crius-pull wrote a line the daemon does not understand (" + std::string(e.what()) + "): " +
                   line.substr(0, 200));
  }
}

}  // namespace crius::image
