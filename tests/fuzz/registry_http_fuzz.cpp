// Fuzzes what a registry (or its token server) sends in HTTP headers and
// small bodies: the WWW-Authenticate challenge (image::parse_challenge), a
// resumed blob's Content-Range (content_range_start), the token server's
// JSON answer (parse_token_answer), registry error bodies (error_text), and
// the CRI AuthConfig.auth field (Credentials::decode_auth).
// Invariants: a challenge that is not blank has a lowercase scheme under ""
// and only lowercase parameter names, no value longer than the header; a
// Content-Range start is -1 or the first number of a well-formed
// "bytes FIRST-LAST/TOTAL"; a token answer has
// a non-empty token and a lifetime of 10 s to a day, and is otherwise
// refused with FailedPrecondition; an error text is never empty; decoded
// credentials have a username without ':'.
#include <string>

#include "base/error.h"
#include "image/pull/http_transfer.h"
#include "image/pull/registry_auth.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace img = crius::image;

bool has_upper(const std::string& s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(crius::fuzz::text(data, size));

  const auto challenge = img::parse_challenge(in);
  if (in.find_first_not_of(' ') != std::string::npos) CRIUS_FUZZ_CHECK(challenge.count("") == 1);
  for (const auto& [key, value] : challenge) {
    CRIUS_FUZZ_CHECK(!has_upper(key));
    CRIUS_FUZZ_CHECK(value.size() <= in.size());
  }
  if (auto scheme = challenge.find(""); scheme != challenge.end()) CRIUS_FUZZ_CHECK(!has_upper(scheme->second));

  const int64_t start = img::content_range_start(in);
  CRIUS_FUZZ_CHECK(start >= -1);
  if (start >= 0) {
    // The digits after "bytes " are that number (leading zeros allowed).
    CRIUS_FUZZ_CHECK(in.starts_with("bytes "));
    size_t i = 6;
    while (i < in.size() && in[i] == '0') ++i;
    const std::string digits = in.substr(i, in.find('-', i) - i);
    CRIUS_FUZZ_CHECK(digits == (start == 0 ? "" : std::to_string(start)));
  }

  try {
    const img::TokenAnswer a = img::parse_token_answer(in);
    CRIUS_FUZZ_CHECK(!a.token.empty());
    CRIUS_FUZZ_CHECK(a.expires_in >= 10 && a.expires_in <= 24 * 3600);
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::failed_precondition);
  }

  CRIUS_FUZZ_CHECK(!img::error_text(in).empty());

  try {
    const auto [user, password] = img::Credentials::decode_auth(in);
    CRIUS_FUZZ_CHECK(user.find(':') == std::string::npos);
    CRIUS_FUZZ_CHECK(user.size() + password.size() < in.size());
  } catch (const crius::Error& e) {
    CRIUS_FUZZ_CHECK(e.code() == crius::ErrorCode::invalid_argument);
  }
  return 0;
}
