// A client for the distribution (OCI registry) API v2 over libcurl:
// manifests and blobs, the anonymous and credentialed bearer token flow,
// basic auth, TLS with per-registry certs.d, insecure registries, mirrors
// and locations from image.registries, retries with backoff, and a
// no-progress timeout. Easy handles are pooled so connections are reused.
// Its parts: registry_targets.h (where to fetch from), registry_auth.h
// (credentials, challenges, tokens), http_transfer.h (one request).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "image/pull/registry_auth.h"
#include "image/pull/registry_targets.h"

namespace crius::image {

class HttpPool;
struct HttpResponse;

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

 private:
  // The retry loop: backoff on transport and server errors, the fall back
  // to plain HTTP for insecure registries, one round of authentication.
  HttpResponse get(const Call& call, const std::string& path, const std::vector<std::string>& headers,
                   const std::function<void(const char*, size_t)>* sink);
  std::string scheme_for(const Target& t);

  std::string certs_dir_;
  std::unique_ptr<HttpPool> http_;
  TokenCache tokens_;
  std::mutex mu_;
  std::map<std::string, std::string> schemes_;  // insecure host -> "http" or "https" once known
};

}  // namespace crius::image
