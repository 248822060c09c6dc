// What a CRI client may present to a registry (PullImageRequest.auth).
#pragma once

#include <string>
#include <utility>

namespace crius::image {

struct Credentials {
  std::string username, password;
  std::string identity_token;  // an OAuth2 refresh token for the token server
  std::string registry_token;  // a bearer token sent as is

  bool empty() const { return username.empty() && identity_token.empty() && registry_token.empty(); }
  // Fills username/password from AuthConfig.auth, base64("user:password").
  // Throws InvalidArgument when it is not that.
  static std::pair<std::string, std::string> decode_auth(const std::string& auth);
};

}  // namespace crius::image
