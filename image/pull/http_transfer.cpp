#include "image/pull/http_transfer.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.h"

namespace crius::image {
namespace {

constexpr size_t kMaxPooled = 16;

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// What the callbacks of one transfer share.
struct Transfer {
  HttpResponse* res;
  const ByteSink* sink;
  std::chrono::milliseconds timeout;
  std::chrono::steady_clock::time_point last_progress = std::chrono::steady_clock::now();
  curl_off_t last_now = 0;
  CURL* curl;
  size_t limit;
  uint64_t* forwarded = nullptr;
  uint64_t resume_from = 0;
  uint64_t skip = 0;  // bytes of this body the sink already has
  bool body_started = false;
};

size_t on_header(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::string line(data, size * n);
  if (line.starts_with("HTTP/")) t->res->headers.clear();  // a new response (after a redirect)
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
              Unavailable("registry answered a range request for bytes " + std::to_string(t->resume_from) +
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
    t->res->delivered = true;
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

// certs.d's ca.crt, trusted besides the system's CAs.
CURLcode add_ca(CURL*, void* ssl_ctx, void* ca_file) {
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  if (X509_STORE_load_file(store, static_cast<const std::string*>(ca_file)->c_str()) != 1)
    return CURLE_SSL_CACERT_BADFILE;
  return CURLE_OK;
}

// e[key] when it is a string, `fallback` when e has no such key.
std::optional<std::string> text_field(const nlohmann::json& e, const char* key, const char* fallback) {
  auto it = e.find(key);
  if (it == e.end()) return fallback;
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// "CODE: message (detail); …" from {"errors": [{"code", "message", "detail"}]};
// nothing when the body has any other form.
std::optional<std::string> spec_errors(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  auto errors = j.find("errors");
  if (errors == j.end() || !errors->is_array()) return std::nullopt;
  std::string out;
  for (const auto& e : *errors) {
    if (!e.is_object()) return std::nullopt;
    const auto code = text_field(e, "code", "UNKNOWN"), message = text_field(e, "message", "");
    if (!code || !message) return std::nullopt;
    if (!out.empty()) out += "; ";
    out += *code + ": " + *message;
    if (auto d = e.find("detail"); d != e.end() && !d->is_null()) out += " (" + d->dump() + ")";
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

int64_t content_range_start(std::string_view v) {
  if (!v.starts_with("bytes ")) return -1;
  v.remove_prefix(6);
  // One number, as from_chars reads it, but digits only (no sign).
  auto number = [&v](int64_t& out) {
    if (v.empty() || v[0] < '0' || v[0] > '9') return false;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc()) return false;
    v.remove_prefix(static_cast<size_t>(end - v.data()));
    return true;
  };
  int64_t start = 0, last = 0, total = 0;
  if (!number(start) || !v.starts_with('-')) return -1;
  v.remove_prefix(1);
  if (!number(last) || last < start || !v.starts_with('/')) return -1;
  v.remove_prefix(1);
  if (v == "*") return start;
  if (!number(total) || !v.empty() || last >= total) return -1;
  return start;
}

// libcurl (and with it OpenSSL's configuration and ciphers) is initialised
// by the first transfer, not at the daemon's start: a node that pulls
// nothing does not keep those pages resident.
struct HttpPool::Handle {
  CURL* curl = (curl_init_once(), curl_easy_init());
  ~Handle() { curl_easy_cleanup(curl); }
};

HttpPool::HttpPool() = default;
HttpPool::~HttpPool() = default;

std::unique_ptr<HttpPool::Handle> HttpPool::acquire() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return std::make_unique<Handle>();
  auto h = std::move(idle_.back());
  idle_.pop_back();
  return h;
}

void HttpPool::release(std::unique_ptr<Handle> h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxPooled) idle_.push_back(std::move(h));
}

HttpResponse HttpPool::get(const Endpoint& endpoint, const HttpGet& request) {
  auto h = acquire();
  CURL* c = h->curl;
  curl_easy_reset(c);
  HttpResponse res;
  Transfer t{&res, request.sink, endpoint.progress_timeout, std::chrono::steady_clock::now(), 0, c, request.limit};
  t.forwarded = request.forwarded;
  t.resume_from = request.forwarded ? *request.forwarded : 0;
  curl_slist* list = nullptr;
  for (const auto& hd : request.headers) list = curl_slist_append(list, hd.c_str());
  if (t.resume_from > 0) list = curl_slist_append(list, ("Range: bytes=" + std::to_string(t.resume_from) + "-").c_str());
  if (!request.bearer.empty()) list = curl_slist_append(list, ("Authorization: Bearer " + request.bearer).c_str());
  list = curl_slist_append(list, "User-Agent: crius");
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(endpoint.progress_timeout.count(), 30000)));
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  if (request.basic) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
  }
  std::string ca_file;
  if (request.url.starts_with("https://")) {
    if (endpoint.insecure) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const std::string& dir = endpoint.certs_dir;
    if (exists(dir + "/ca.crt")) {
      ca_file = dir + "/ca.crt";
      curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_ca);
      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &ca_file);
    }
    if (exists(dir + "/client.cert") && exists(dir + "/client.key")) {
      curl_easy_setopt(c, CURLOPT_SSLCERT, (dir + "/client.cert").c_str());
      curl_easy_setopt(c, CURLOPT_SSLKEY, (dir + "/client.key").c_str());
    }
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  res.curl = curl_easy_perform(c);
  if (res.curl != CURLE_OK) res.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(res.curl);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  // The header list and the error buffer die here; the pooled handle must
  // not point at them.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(list);
  release(std::move(h));
  return res;
}

HttpResponse HttpPool::post_form(const std::string& url, const std::string& form, size_t limit) {
  auto h = acquire();
  CURL* c = h->curl;
  curl_easy_reset(c);
  HttpResponse res;
  // No progress callback is set, so the timeout of Transfer is unused.
  Transfer t{&res, nullptr, std::chrono::milliseconds(0), std::chrono::steady_clock::now(), 0, c, limit};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
  res.curl = curl_easy_perform(c);
  if (res.curl != CURLE_OK) res.curl_error = curl_easy_strerror(res.curl);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.status);
  release(std::move(h));
  return res;
}

std::string error_text(const std::string& body) {
  if (auto text = spec_errors(nlohmann::json::parse(body, nullptr, false))) return *text;
  // Not the spec's form (an HTML error page, a proxy's text): its start.
  std::string s = body.substr(0, 300);
  s.erase(std::remove(s.begin(), s.end(), '\n'), s.end());
  return s.empty() ? "no error body" : s;
}

}  // namespace crius::image
