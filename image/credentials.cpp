#include "image/credentials.h"

#include <openssl/evp.h>

#include <algorithm>

#include "base/error.h"

namespace crius::image {

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

}  // namespace crius::image
