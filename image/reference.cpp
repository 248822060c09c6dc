#include "image/reference.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"

namespace crius::image {
namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A path component: [a-z0-9]+ joined by ".", "_", "__" or any run of "-".
bool valid_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    if (c[i] == '.') j = i + 1;
    else if (c[i] == '_') j = (i + 1 < c.size() && c[i + 1] == '_') ? i + 2 : i + 1;
    else if (c[i] == '-') {
      while (j < c.size() && c[j] == '-') ++j;
    } else
      return false;
    if (j >= c.size() || !lower_alnum(c[j])) return false;
    i = j;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t[0])) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

// host[:port], where host is a DNS name (labels of alnum and "-") or an
// IPv6 literal in brackets.
bool valid_domain(std::string_view d) {
  std::string_view host = d;
  if (!d.empty() && d[0] == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : d.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    host = {};
    d = d.substr(close + 1);
    if (!d.empty() && d[0] != ':') return false;
  } else {
    auto colon = d.find(':');
    host = d.substr(0, colon);
    d = colon == std::string_view::npos ? std::string_view() : d.substr(colon);
    if (host.empty()) return false;
    size_t start = 0;
    while (start <= host.size()) {
      auto dot = host.find('.', start);
      auto label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (label.empty() || label.front() == '-' || label.back() == '-') return false;
      for (char c : label)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (!d.empty()) {  // ":port"
    auto port = d.substr(1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool is_sha256_digest(std::string_view s) {
  if (s.size() != 71 || s.substr(0, 7) != "sha256:") return false;
  for (char c : s.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool has_domain(std::string_view ref) {
  auto slash = ref.find('/');
  if (slash == std::string_view::npos) return false;
  auto first = ref.substr(0, slash);
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
}

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Reference parse_reference(std::string_view input, std::string_view default_domain) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid image reference \"" + std::string(input) + "\": " + why);
  };
  if (input.empty()) throw bad("empty");
  if (input.size() > 4096) throw bad("too long");
  Reference r;
  std::string_view rest = input;

  if (auto at = rest.find('@'); at != std::string_view::npos) {
    r.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (r.digest.find(':') == std::string::npos) throw bad("digest \"" + r.digest + "\" has no algorithm");
    if (!is_sha256_digest(r.digest)) throw bad("digest \"" + r.digest + "\" is not sha256 with 64 hex digits");
  }
  // A tag follows the last ':' when no '/' comes after it (else it was a port).
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    r.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(r.tag)) throw bad("tag \"" + r.tag + "\" is not valid");
  }
  if (has_domain(rest)) {
    auto slash = rest.find('/');
    r.domain = std::string(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
    if (!valid_domain(r.domain)) throw bad("registry \"" + r.domain + "\" is not a valid host[:port]");
  } else {
    r.domain = std::string(default_domain);
  }
  if (r.domain == "index.docker.io" || r.domain == "registry-1.docker.io") r.domain = "docker.io";
  if (rest.empty()) throw bad("no repository name");
  size_t start = 0;
  for (;;) {
    auto slash = rest.find('/', start);
    auto comp = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!valid_component(comp))
      throw bad("repository component \"" + std::string(comp) +
                "\" must be lowercase letters and digits separated by '.', '_', '__' or '-'");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  r.path = std::string(rest);
  if (r.domain == "docker.io" && r.path.find('/') == std::string::npos) r.path = "library/" + r.path;
  if (r.name().size() > 255) throw bad("repository name longer than 255 characters");
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

std::vector<Reference> resolve_candidates(std::string_view ref, const std::vector<std::string>& short_name_search) {
  if (has_domain(ref) || short_name_search.empty()) return {parse_reference(ref)};
  std::vector<Reference> out;
  for (const auto& domain : short_name_search) {
    Reference r = parse_reference(ref, domain);
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace crius::image
