#include "image/pull/registry_auth.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "image/pull/http_transfer.h"

namespace crius::image {
namespace {

constexpr size_t kMaxTokenBody = 4 << 20;   // a GET's answer
constexpr size_t kMaxGrantBody = 64 << 10;  // the refresh-token grant's answer

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
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

}  // namespace

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
    while (!key.empty() && key.back() == ' ') key.pop_back();
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
    // A parameter without a name is dropped: "" holds the scheme.
    if (!key.empty()) out[key] = value;
  }
  return out;
}

std::string TokenCache::token(HttpPool& http, const Endpoint& endpoint, const Target& target,
                              const Credentials& creds, const std::map<std::string, std::string>& ch) {
  auto get = [&](const char* k) {
    auto it = ch.find(k);
    return it == ch.end() ? std::string() : it->second;
  };
  const std::string realm = get("realm");
  if (realm.empty()) throw FailedPrecondition("registry " + target.host + ": bearer challenge without a realm");
  std::string scope = get("scope");
  if (scope.empty()) scope = "repository:" + target.repo + ":pull";
  const std::string service = get("service");
  const std::string key = realm + "\n" + service + "\n" + scope + "\n" + creds.username + "\n" + creds.identity_token;
  {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && it->second.expires > std::chrono::steady_clock::now()) return it->second.value;
  }
  HttpResponse res;
  if (!creds.identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker does with an identity token.
    const std::string form = "grant_type=refresh_token&client_id=crius&service=" + url_escape(service) +
                             "&scope=" + url_escape(scope) + "&refresh_token=" + url_escape(creds.identity_token);
    res = http.post_form(realm, form, kMaxGrantBody);
  } else {
    HttpGet request;
    request.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + "service=" + url_escape(service) +
                  "&scope=" + url_escape(scope);
    request.basic = !creds.username.empty();
    request.username = creds.username;
    request.password = creds.password;
    request.limit = kMaxTokenBody;
    res = http.get(endpoint, request);
  }
  if (res.curl != CURLE_OK)
    throw Unavailable("registry " + target.host + ": fetching a token from " + realm + ": " +
                      curl_easy_strerror(res.curl));
  if (res.status != 200) {
    const std::string what = "registry " + target.host + ": token server " + realm + " answered " +
                             std::to_string(res.status) + ": " + error_text(res.body);
    if (res.status == 401) throw Unauthenticated(what);
    if (res.status == 403) throw PermissionDenied(what);
    throw FailedPrecondition(what);
  }
  TokenAnswer answer;
  try {
    answer = parse_token_answer(res.body);
  } catch (const Error& e) {
    throw FailedPrecondition("registry " + target.host + ": token server " + realm + ": " + e.what());
  }
  std::lock_guard lock(mu_);
  // Renew a little early so a token never expires mid-request.
  tokens_[key] = {answer.token, std::chrono::steady_clock::now() + std::chrono::seconds(answer.expires_in - 5)};
  return answer.token;
}

TokenAnswer parse_token_answer(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) throw FailedPrecondition("bad response: not a JSON object");
  auto text = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) throw FailedPrecondition(std::string("bad response: \"") + key + "\" is not a string");
    return it->get<std::string>();
  };
  TokenAnswer a;
  a.token = text("token");
  if (a.token.empty()) a.token = text("access_token");
  if (a.token.empty()) throw FailedPrecondition("gave no token");
  if (auto e = j.find("expires_in"); e != j.end() && !e->is_null()) {
    if (!e->is_number()) throw FailedPrecondition("bad response: \"expires_in\" is not a number");
    // Compared as a double first: a huge or fractional value must not
    // overflow the conversion or the clock arithmetic.
    const double v = e->get<double>();
    constexpr int64_t kMin = 10, kMax = 24 * 3600;
    a.expires_in = v <= kMin ? kMin : v >= kMax ? kMax : static_cast<int64_t>(v);
  }
  return a;
}

}  // namespace crius::image
