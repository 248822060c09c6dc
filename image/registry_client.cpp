#include "image/registry_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <exception>
#include <thread>

#include "conf/error.h"
#include "conf/log.h"

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

Error unavailable(const std::string& m) { return Error(ErrorCode::unavailable, m); }

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_loopback_host(const std::string& hostport) {
  std::string host = hostport;
  if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
  else host = host.substr(0, host.find(':'));
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string url_escape(const std::string& s) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '/') out += static_cast<char>(c);
    else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "CODE: message (detail)" from a registry error body, or its first bytes.
std::string error_text(const std::string& body) {
  try {
    auto j = nlohmann::json::parse(body);
    std::string out;
    for (const auto& e : j.at("errors")) {
      if (!out.empty()) out += "; ";
      out += e.value("code", "UNKNOWN");
      out += ": " + e.value("message", "");
      if (auto d = e.find("detail"); d != e.end() && !d->is_null()) out += " (" + d->dump() + ")";
    }
    if (!out.empty()) return out;
  } catch (const std::exception&) {
  }
  std::string s = body.substr(0, 300);
  s.erase(std::remove(s.begin(), s.end(), '\n'), s.end());
  return s.empty() ? "no error body" : s;
}

}  // namespace

struct RegistryClient::Handle {
  CURL* curl = curl_easy_init();
  ~Handle() { curl_easy_cleanup(curl); }
};

struct RegistryClient::Response {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  bool stalled = false;
  std::exception_ptr sink_error;  // what the sink threw, ending the transfer
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names, of the final response
};

std::pair<std::string, std::string> Credentials::decode_auth(const std::string& auth) {
  std::string out(auth.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(auth.data()), static_cast<int>(auth.size()));
  if (n < 0) throw InvalidArgument("auth: not base64");
  out.resize(static_cast<size_t>(n));
  size_t pad = 0;
  for (auto it = auth.rbegin(); it != auth.rend() && *it == '='; ++it) ++pad;
  out.resize(out.size() - std::min(pad, out.size()));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  auto colon = out.find(':');
  if (colon == std::string::npos) throw InvalidArgument("auth: not base64 of \"username:password\"");
  return {out.substr(0, colon), out.substr(colon + 1)};
}

std::string Target::url_base() const { return host + "/v2/" + repo; }

std::vector<Target> targets_for(const Reference& ref, const conf::ImageConfig& config) {
  const std::string name = ref.name();
  const conf::Registry* best = nullptr;
  for (const auto& r : config.registries) {
    const bool match = name == r.prefix || (name.size() > r.prefix.size() && name.compare(0, r.prefix.size(), r.prefix) == 0 &&
                                           (name[r.prefix.size()] == '/' || r.prefix.back() == '/'));
    if (match && (!best || r.prefix.size() > best->prefix.size())) best = &r;
  }
  auto split = [](const std::string& full, bool insecure, bool mirror) {
    Target t;
    auto slash = full.find('/');
    t.host = full.substr(0, slash);
    t.repo = slash == std::string::npos ? "" : full.substr(slash + 1);
    while (!t.repo.empty() && t.repo.front() == '/') t.repo.erase(0, 1);
    if (t.host == "docker.io") t.host = "registry-1.docker.io";
    t.insecure = insecure;
    t.mirror = mirror;
    return t;
  };
  std::vector<Target> out;
  if (!best) {
    out.push_back(split(name, false, false));
    return out;
  }
  const std::string rest = name.substr(best->prefix.size());
  auto join = [&](const std::string& location) {
    if (rest.empty() || rest.front() == '/' || (!location.empty() && location.back() == '/')) return location + rest;
    return location + "/" + rest;
  };
  for (const auto& m : best->mirrors) out.push_back(split(join(m.location), m.insecure, true));
  out.push_back(split(join(best->location.empty() ? best->prefix : best->location), best->insecure, false));
  return out;
}

std::map<std::string, std::string> parse_challenge(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t i = header.find_first_not_of(' ');
  if (i == std::string::npos) return out;
  size_t sp = header.find(' ', i);
  out[""] = lower(header.substr(i, sp == std::string::npos ? std::string::npos : sp - i));
  i = sp;
  while (i != std::string::npos && i < header.size()) {
    i = header.find_first_not_of(" ,", i);
    if (i == std::string::npos) break;
    size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = lower(header.substr(i, eq - i));
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i++];
      }
      ++i;
    } else {
      size_t end = header.find(',', i);
      value = header.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end;
    }
    out[key] = value;
  }
  return out;
}

RegistryClient::RegistryClient(std::string certs_dir) : certs_dir_(std::move(certs_dir)) { curl_init_once(); }
RegistryClient::~RegistryClient() = default;

std::unique_ptr<RegistryClient::Handle> RegistryClient::acquire() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return std::make_unique<Handle>();
  auto h = std::move(idle_.back());
  idle_.pop_back();
  return h;
}

void RegistryClient::release(std::unique_ptr<Handle> h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(h));
}

std::string RegistryClient::scheme_for(const Target& t) {
  if (!t.insecure && !is_loopback_host(t.host)) return "https";
  std::lock_guard lock(mu_);
  auto it = schemes_.find(t.host);
  return it == schemes_.end() ? "https" : it->second;
}

namespace {

struct Transfer {
  RegistryClient::Response* res;
  const std::function<void(const char*, size_t)>* sink;
  bool* delivered;
  std::chrono::milliseconds timeout;
  std::chrono::steady_clock::time_point last_progress = std::chrono::steady_clock::now();
  curl_off_t last_now = 0;
  CURL* curl;
  size_t limit;
  // A resumed blob transfer: `*forwarded` bytes already reached the sink on
  // earlier attempts, and this one asked for the rest with a Range header.
  uint64_t* forwarded = nullptr;
  uint64_t resume_from = 0;
  uint64_t skip = 0;        // bytes of this body the sink already has
  bool body_started = false;
};

// "bytes START-END/TOTAL" -> START, or -1.
int64_t content_range_start(const std::string& v) {
  if (v.rfind("bytes ", 0) != 0) return -1;
  try {
    return std::stoll(v.substr(6));
  } catch (const std::exception&) {
    return -1;
  }
}

size_t on_header(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->res->headers.clear();  // a new response (after a redirect)
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    t->res->headers[lower(line.substr(0, colon))] = value;
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  const size_t len = size * n;
  if (status >= 200 && status < 300 && t->sink) {
    if (!t->body_started) {
      t->body_started = true;
      if (t->resume_from > 0 && status == 206) {
        const int64_t start = content_range_start(t->res->headers["content-range"]);
        if (start != static_cast<int64_t>(t->resume_from)) {
          t->res->sink_error = std::make_exception_ptr(
              unavailable("registry answered a range request for bytes " + std::to_string(t->resume_from) +
                          "- with Content-Range \"" + t->res->headers["content-range"] + "\""));
          return 0;
        }
      } else if (t->resume_from > 0) {
        t->skip = t->resume_from;  // the whole blob again: drop what the sink has
      }
    }
    size_t off = 0;
    if (t->skip) {
      off = static_cast<size_t>(std::min<uint64_t>(t->skip, len));
      t->skip -= off;
      if (off == len) return len;
    }
    try {
      (*t->sink)(data + off, len - off);
    } catch (...) {
      t->res->sink_error = std::current_exception();
      return 0;  // aborts the transfer
    }
    if (t->forwarded) *t->forwarded += len - off;
    *t->delivered = true;
    return len;
  }
  if (t->res->body.size() + len > t->limit) return 0;
  t->res->body.append(data, len);
  return len;
}

int on_progress(void* p, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(p);
  auto now = std::chrono::steady_clock::now();
  if (dlnow + ulnow != t->last_now) {
    t->last_now = dlnow + ulnow;
    t->last_progress = now;
    return 0;
  }
  if (now - t->last_progress > t->timeout) {
    t->res->stalled = true;
    return 1;
  }
  return 0;
}

struct TlsExtra {
  std::string ca_file;
};

CURLcode add_ca(CURL*, void* ssl_ctx, void* p) {
  auto* extra = static_cast<TlsExtra*>(p);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  if (X509_STORE_load_file(store, extra->ca_file.c_str()) != 1) return CURLE_SSL_CACERT_BADFILE;
  return CURLE_OK;
}

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

RegistryClient::Response RegistryClient::perform(const Call& call, const std::string& url,
                                                 const std::vector<std::string>& headers,
                                                 const std::function<void(const char*, size_t)>* sink,
                                                 const std::string& bearer, bool basic, bool& delivered,
                                                 uint64_t* forwarded) {
  auto h = acquire();
  CURL* c = h->curl;
  curl_easy_reset(c);
  Response res;
  Transfer t{&res, sink, &delivered, call.progress_timeout, std::chrono::steady_clock::now(), 0, c,
             sink ? kMaxErrorBody : kMaxManifest};
  t.forwarded = forwarded;
  t.resume_from = forwarded ? *forwarded : 0;
  curl_slist* list = nullptr;
  for (const auto& hd : headers) list = curl_slist_append(list, hd.c_str());
  if (t.resume_from > 0) list = curl_slist_append(list, ("Range: bytes=" + std::to_string(t.resume_from) + "-").c_str());
  if (!bearer.empty()) list = curl_slist_append(list, ("Authorization: Bearer " + bearer).c_str());
  list = curl_slist_append(list, "User-Agent: crius");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(call.progress_timeout.count(), 30000)));
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (basic) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, call.creds.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, call.creds.password.c_str());
  }
  TlsExtra extra;
  if (url.rfind("https://", 0) == 0) {
    if (call.target.insecure) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const std::string dir = certs_dir_ + "/" + call.target.host;
    if (file_exists(dir + "/ca.crt")) {
      extra.ca_file = dir + "/ca.crt";
      curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_ca);
      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &extra);
    }
    if (file_exists(dir + "/client.cert") && file_exists(dir + "/client.key")) {
      curl_easy_setopt(c, CURLOPT_SSLCERT, (dir + "/client.cert").c_str());
      curl_easy_setopt(c, CURLOPT_SSLKEY, (dir + "/client.key").c_str());
    }
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  res.curl = curl_easy_perform(c);
  if (res.curl != CURLE_OK) res.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(res.curl);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(list);
  release(std::move(h));
  return res;
}

std::string RegistryClient::fetch_token(const Call& call, const std::map<std::string, std::string>& ch) {
  auto get = [&](const char* k) {
    auto it = ch.find(k);
    return it == ch.end() ? std::string() : it->second;
  };
  const std::string realm = get("realm");
  if (realm.empty()) throw FailedPrecondition("registry " + call.target.host + ": bearer challenge without a realm");
  std::string scope = get("scope");
  if (scope.empty()) scope = "repository:" + call.target.repo + ":pull";
  const std::string service = get("service");
  const std::string key = realm + "\n" + service + "\n" + scope + "\n" + call.creds.username + "\n" +
                          call.creds.identity_token;
  {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && it->second.expires > std::chrono::steady_clock::now()) return it->second.value;
  }
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + "service=" + url_escape(service) +
                    "&scope=" + url_escape(scope);
  Response res;
  bool delivered = false;
  if (!call.creds.identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker does with an identity token.
    auto h = acquire();
    CURL* c = h->curl;
    curl_easy_reset(c);
    Transfer t{&res, nullptr, &delivered, call.progress_timeout, std::chrono::steady_clock::now(), 0, c, kMaxErrorBody};
    const std::string form = "grant_type=refresh_token&client_id=crius&service=" + url_escape(service) +
                             "&scope=" + url_escape(scope) + "&refresh_token=" + url_escape(call.creds.identity_token);
    curl_easy_setopt(c, CURLOPT_URL, realm.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    res.curl = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
    release(std::move(h));
  } else {
    Call token_call{call.target, call.creds, call.progress_timeout};
    res = perform(token_call, url, {}, nullptr, "", !call.creds.username.empty(), delivered, nullptr);
  }
  if (res.curl != CURLE_OK)
    throw unavailable("registry " + call.target.host + ": fetching a token from " + realm + ": " +
                      curl_easy_strerror(res.curl));
  if (res.status != 200) {
    const std::string what = "registry " + call.target.host + ": token server " + realm + " answered " +
                             std::to_string(res.status) + ": " + error_text(res.body);
    if (res.status == 401) throw Unauthenticated(what);
    if (res.status == 403) throw PermissionDenied(what);
    throw FailedPrecondition(what);
  }
  std::string token;
  int64_t expires_in = 60;
  try {
    auto j = nlohmann::json::parse(res.body);
    token = j.value("token", "");
    if (token.empty()) token = j.value("access_token", "");
    expires_in = std::max<int64_t>(j.value("expires_in", int64_t{60}), 10);
  } catch (const std::exception& e) {
    throw FailedPrecondition("registry " + call.target.host + ": token server " + realm + ": bad response: " + e.what());
  }
  if (token.empty()) throw FailedPrecondition("registry " + call.target.host + ": token server " + realm + " gave no token");
  std::lock_guard lock(mu_);
  // Renew a little early so a token never expires mid-request.
  tokens_[key] = {token, std::chrono::steady_clock::now() + std::chrono::seconds(expires_in - 5)};
  return token;
}

RegistryClient::Response RegistryClient::get(const Call& call, const std::string& path,
                                             const std::vector<std::string>& headers,
                                             const std::function<void(const char*, size_t)>* sink) {
  const Target& t = call.target;
  std::string bearer = call.creds.registry_token;
  bool basic = false, auth_tried = false, scheme_switched = false;
  auto backoff = kFirstBackoff;
  bool plain_http = false;  // this call fell back from HTTPS
  uint64_t forwarded = 0;   // blob bytes the sink has, across attempts
  for (int attempt = 1;; ++attempt) {
    const std::string scheme = plain_http ? "http" : scheme_for(t);
    const std::string url = scheme + "://" + t.url_base() + path;
    bool delivered = false;
    Response res = perform(call, url, headers, sink, bearer, basic, delivered, sink ? &forwarded : nullptr);
    if (res.sink_error) std::rethrow_exception(res.sink_error);
    if (res.curl != CURLE_OK) {
      if (res.stalled)
        throw DeadlineExceeded("registry " + t.host + ": no progress for " +
                               std::to_string(call.progress_timeout.count()) + "ms on " + url +
                               " (image.pull_progress_timeout)");
      if (delivered && res.curl == CURLE_WRITE_ERROR) throw unavailable("registry " + t.host + ": writing " + url + " failed");
      // An insecure registry may speak plain HTTP: fall back once, as docker
      // does, unless certs.d configures TLS for it.
      if (scheme == "https" && !scheme_switched && (t.insecure || is_loopback_host(t.host)) &&
          !file_exists(certs_dir_ + "/" + t.host) &&
          (res.curl == CURLE_SSL_CONNECT_ERROR || res.curl == CURLE_RECV_ERROR || res.curl == CURLE_GOT_NOTHING ||
           res.curl == CURLE_WEIRD_SERVER_REPLY || res.curl == CURLE_COULDNT_CONNECT) && !delivered) {
        plain_http = true;
        scheme_switched = true;
        --attempt;
        continue;
      }
      if (attempt >= kAttempts)
        throw unavailable("registry " + t.host + ": GET " + url + ": " + res.curl_error + " (attempt " +
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
        bearer = fetch_token(call, ch);
        --attempt;
        continue;
      }
      if (ch[""] == "basic" && !call.creds.username.empty()) {
        basic = true;
        --attempt;
        continue;
      }
    }
    if (res.status >= 500 && !delivered && attempt < kAttempts) {
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
    if (res.status >= 500 || res.status == 429) throw unavailable(what);
    throw Internal(what);
  }
}

Fetched RegistryClient::manifest(const Call& call, const std::string& reference) {
  Response res = get(call, "/manifests/" + reference, {kManifestAccept}, nullptr);
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
