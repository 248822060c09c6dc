#include "image/pull/registry_client.h"

#include <filesystem>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "image/pull/http_transfer.h"

namespace crius::image {
namespace {

constexpr int kAttempts = 4;
constexpr auto kFirstBackoff = std::chrono::milliseconds(250);
constexpr size_t kMaxManifest = 4 << 20;  // as containerd limits manifests
constexpr size_t kMaxErrorBody = 64 << 10;

const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

bool is_loopback_host(const std::string& hostport) {
  std::string host = hostport;
  if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.find(':'));
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace

RegistryClient::RegistryClient(std::string certs_dir)
    : certs_dir_(std::move(certs_dir)), http_(std::make_unique<HttpPool>()) {}
RegistryClient::~RegistryClient() = default;

std::string RegistryClient::scheme_for(const Target& t) {
  if (!t.insecure && !is_loopback_host(t.host)) return "https";
  std::lock_guard lock(mu_);
  auto it = schemes_.find(t.host);
  return it == schemes_.end() ? "https" : it->second;
}

HttpResponse RegistryClient::get(const Call& call, const std::string& path, const std::vector<std::string>& headers,
                                 const std::function<void(const char*, size_t)>* sink) {
  const Target& t = call.target;
  const Endpoint endpoint{t.insecure, certs_dir_ + "/" + t.host, call.progress_timeout};
  HttpGet request;
  request.headers = headers;
  request.bearer = call.creds.registry_token;
  request.sink = sink;
  request.limit = sink ? kMaxErrorBody : kMaxManifest;
  bool auth_tried = false, scheme_switched = false;
  auto backoff = kFirstBackoff;
  bool plain_http = false;  // this call fell back from HTTPS
  uint64_t forwarded = 0;   // blob bytes the sink has, across attempts
  if (sink) request.forwarded = &forwarded;
  for (int attempt = 1;; ++attempt) {
    const std::string scheme = plain_http ? "http" : scheme_for(t);
    request.url = scheme + "://" + t.url_base() + path;
    const std::string& url = request.url;
    HttpResponse res = http_->get(endpoint, request);
    if (res.sink_error) std::rethrow_exception(res.sink_error);
    if (res.curl != CURLE_OK) {
      if (res.stalled)
        throw DeadlineExceeded("registry " + t.host + ": no progress for " +
                               std::to_string(call.progress_timeout.count()) + "ms on " + url +
                               " (image.pull_progress_timeout)");
      if (res.delivered && res.curl == CURLE_WRITE_ERROR)
        throw Unavailable("registry " + t.host + ": writing " + url + " failed");
      // An insecure registry may speak plain HTTP: fall back once, as docker
      // does, unless certs.d configures TLS for it.
      std::error_code ec;
      if (scheme == "https" && !scheme_switched && (t.insecure || is_loopback_host(t.host)) &&
          !std::filesystem::exists(endpoint.certs_dir, ec) &&
          (res.curl == CURLE_SSL_CONNECT_ERROR || res.curl == CURLE_RECV_ERROR || res.curl == CURLE_GOT_NOTHING ||
           res.curl == CURLE_WEIRD_SERVER_REPLY || res.curl == CURLE_COULDNT_CONNECT) &&
          !res.delivered) {
        plain_http = true;
        scheme_switched = true;
        --attempt;
        continue;
      }
      if (attempt >= kAttempts)
        throw Unavailable("registry " + t.host + ": GET " + url + ": " + res.curl_error + " (attempt " +
                          std::to_string(attempt) + ")");
      // A blob cut off mid-transfer resumes where it stopped (Range), or
      // skips what the sink already has when the registry sends it whole.
      if (forwarded > 0)
        log::warn("blob transfer cut off; resuming", {{"url", url}, {"error", res.curl_error},
                                                      {"offset", std::to_string(forwarded)}});
      else
        log::warn("registry request failed; retrying", {{"url", url}, {"error", res.curl_error}});
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      continue;
    }
    // Remember what an insecure registry speaks once it answered over it.
    if (t.insecure || is_loopback_host(t.host)) {
      std::lock_guard lock(mu_);
      if (scheme == "https") schemes_[t.host] = "https";
      else if (res.status != 400) schemes_[t.host] = "http";  // 400: an HTTPS server refusing plain HTTP
    }
    if (res.status == 401 && !auth_tried) {
      auth_tried = true;
      auto ch = parse_challenge(res.headers["www-authenticate"]);
      if (ch[""] == "bearer" && call.creds.registry_token.empty()) {
        request.bearer = tokens_.token(*http_, endpoint, t, call.creds, ch);
        --attempt;
        continue;
      }
      if (ch[""] == "basic" && !call.creds.username.empty()) {
        request.basic = true;
        request.username = call.creds.username;
        request.password = call.creds.password;
        --attempt;
        continue;
      }
    }
    if (res.status >= 500 && !res.delivered && attempt < kAttempts) {
      log::warn("registry answered a server error; retrying", {{"url", url}, {"status", std::to_string(res.status)}});
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      continue;
    }
    if (res.status >= 200 && res.status < 300) return res;
    // Cut off after the last byte: nothing was left to resume; the caller
    // verifies size and digest as always.
    if (res.status == 416 && forwarded > 0) return res;
    const std::string what = "registry " + t.host + ": GET " + url + ": " + std::to_string(res.status) + " " +
                             error_text(res.body);
    if (res.status == 404) throw NotFound(what);
    if (res.status == 401) throw Unauthenticated(what);
    if (res.status == 403) throw PermissionDenied(what);
    if (res.status >= 500 || res.status == 429) throw Unavailable(what);
    throw Internal(what);
  }
}

Fetched RegistryClient::manifest(const Call& call, const std::string& reference) {
  HttpResponse res = get(call, "/manifests/" + reference, {kManifestAccept}, nullptr);
  Fetched f;
  f.media_type = res.headers["content-type"];
  f.media_type = f.media_type.substr(0, f.media_type.find(';'));
  f.body = std::move(res.body);
  return f;
}

void RegistryClient::blob(const Call& call, const std::string& digest,
                          const std::function<void(const char*, size_t)>& sink) {
  get(call, "/blobs/" + digest, {}, &sink);
}

}  // namespace crius::image
