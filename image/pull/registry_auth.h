// Authenticating to a registry with a client's credentials
// (image/credentials.h): the WWW-Authenticate challenges a registry answers
// with, and the bearer tokens its token server hands out for them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "image/credentials.h"
#include "image/pull/registry_targets.h"

namespace crius::image {

class HttpPool;
struct Endpoint;

// Parses `Bearer realm="…",service="…",scope="…"` (or Basic) into its
// parameters, with the scheme under key "" in lowercase.
std::map<std::string, std::string> parse_challenge(const std::string& header);

// A token server's answer: the token ("token", else "access_token") and
// how long to keep it ("expires_in", 60 s when absent, held to 10 s..1 day).
// Throws FailedPrecondition saying what is wrong with the body.
struct TokenAnswer {
  std::string token;
  int64_t expires_in = 60;
};
TokenAnswer parse_token_answer(const std::string& body);

// Bearer tokens, cached by realm, service, scope and credentials until
// shortly before they expire.
class TokenCache {
 public:
  // The token a Bearer `challenge` from `target` asks for. With an identity
  // token it comes from the OAuth2 refresh-token grant, else from a GET of
  // the realm made as to the registry (`endpoint`), with basic auth when the
  // credentials have a username. Throws Unauthenticated, PermissionDenied,
  // Unavailable or FailedPrecondition naming the registry and the realm.
  std::string token(HttpPool& http, const Endpoint& endpoint, const Target& target, const Credentials& creds,
                    const std::map<std::string, std::string>& challenge);

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mu_;
  std::map<std::string, Token> tokens_;
};

}  // namespace crius::image
