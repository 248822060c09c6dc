// One HTTP request to a registry or token server over libcurl: headers,
// TLS with certs.d files, a no-progress timeout, bodies kept or streamed
// to a sink, resumed blob transfers. Easy handles are pooled so that
// connections are reused.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace crius::image {

using ByteSink = std::function<void(const char*, size_t)>;

struct HttpResponse {
  CURLcode curl = CURLE_OK;
  std::string curl_error;         // curl's message when curl != CURLE_OK
  bool stalled = false;           // ended by the no-progress timeout
  bool delivered = false;         // body bytes reached the sink
  std::exception_ptr sink_error;  // what the sink threw, ending the transfer
  long status = 0;
  std::string body;                            // when not streamed to the sink
  std::map<std::string, std::string> headers;  // lowercase names, of the final response
};

// How requests to one registry are made.
struct Endpoint {
  bool insecure = false;   // TLS without verifying the server
  std::string certs_dir;   // certs.d/<host[:port]>: ca.crt, client.cert, client.key
  std::chrono::milliseconds progress_timeout{0};  // no bytes moving this long ends a transfer
};

struct HttpGet {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string bearer;                // Authorization: Bearer, when set
  bool basic = false;                // basic auth with username and password
  std::string username, password;
  // A 2xx body goes here, each byte once; other bodies are kept in the
  // response, up to `limit` bytes (more fails the transfer).
  const ByteSink* sink = nullptr;
  size_t limit = 0;
  // A resumed blob: *forwarded bytes reached the sink on earlier attempts,
  // so the rest is asked for (Range); grows with what this one delivers.
  uint64_t* forwarded = nullptr;
};

class HttpPool {
 public:
  HttpPool();  // libcurl is initialised, once per process, by the first transfer
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  // GET, redirects followed. Failures are in the response, never thrown.
  HttpResponse get(const Endpoint& endpoint, const HttpGet& request);
  // POST of an application/x-www-form-urlencoded body (the OAuth2 token
  // grant), 60 seconds at most; the body is kept up to `limit` bytes.
  HttpResponse post_form(const std::string& url, const std::string& form, size_t limit);

 private:
  struct Handle;
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle>);

  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// The first byte of a 206 answer's Content-Range, "bytes FIRST-LAST/TOTAL"
// (TOTAL may be "*"), or -1 when the value is not of that form.
int64_t content_range_start(std::string_view value);

// "CODE: message (detail)" from a registry error body (the distribution
// spec's {"errors": [...]}), or its first bytes when it is not one.
std::string error_text(const std::string& body);

}  // namespace crius::image
