// A client for the distribution (OCI registry) API v2 over libcurl:
// manifests and blobs, the anonymous and credentialed bearer token flow,
// basic auth, TLS with per-registry certs.d, insecure registries, mirrors
// and locations from image.registries, retries with backoff, and a
// no-progress timeout. Easy handles are pooled so connections are reused.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conf/config.h"
#include "image/reference.h"

namespace crius::image {

// What a client may present, from the CRI AuthConfig.
struct Credentials {
  std::string username, password;
  std::string identity_token;  // an OAuth2 refresh token for the token server
  std::string registry_token;  // a bearer token sent as is

  bool empty() const { return username.empty() && identity_token.empty() && registry_token.empty(); }
  // Fills username/password from AuthConfig.auth, base64("user:password").
  // Throws InvalidArgument when it is not that.
  static std::pair<std::string, std::string> decode_auth(const std::string& auth);
};

// Where to fetch a repository from: one mirror or the origin.
struct Target {
  std::string host;  // host[:port]
  std::string repo;  // repository path on that host
  bool insecure = false;
  bool mirror = false;
  std::string url_base() const;  // without scheme: host/v2/repo
};

// The targets for a reference, mirrors first, then the origin, following the
// longest matching image.registries prefix.
std::vector<Target> targets_for(const Reference& ref, const conf::ImageConfig& config);

struct Fetched {
  std::string media_type;  // Content-Type of the manifest
  std::string body;
};

class RegistryClient {
 public:
  // `certs_dir`: <config dir>/certs.d, with <host[:port]>/{ca.crt,client.cert,client.key}.
  explicit RegistryClient(std::string certs_dir);
  ~RegistryClient();

  struct Call {
    const Target& target;
    const Credentials& creds;
    std::chrono::milliseconds progress_timeout;
  };

  // GET /v2/<repo>/manifests/<tag or digest> with the Accept this client
  // understands (OCI manifest and index, Docker schema 2 manifest and list).
  Fetched manifest(const Call& call, const std::string& reference);

  // GET /v2/<repo>/blobs/<digest>, redirects followed; bytes go to `sink`,
  // each exactly once: a transfer cut off midway is retried from where it
  // stopped (an HTTP Range request), within the bounded retries.
  void blob(const Call& call, const std::string& digest, const std::function<void(const char*, size_t)>& sink);

  struct Handle;
  struct Response;

 private:
  Response get(const Call& call, const std::string& path, const std::vector<std::string>& headers,
               const std::function<void(const char*, size_t)>* sink);
  Response perform(const Call& call, const std::string& url, const std::vector<std::string>& headers,
               const std::function<void(const char*, size_t)>* sink, const std::string& bearer, bool basic,
               bool& delivered, uint64_t* forwarded);
  std::string fetch_token(const Call& call, const std::map<std::string, std::string>& challenge);
  std::string scheme_for(const Target& t);
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle>);

  std::string certs_dir_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Token> tokens_;          // by realm, service, scope and credentials
  std::map<std::string, std::string> schemes_;   // insecure host -> "http" or "https" once known
};

// Parses `Bearer realm="…",service="…",scope="…"` (or Basic) into its
// parameters, with the scheme under key "" in lowercase.
std::map<std::string, std::string> parse_challenge(const std::string& header);

}  // namespace crius::image
