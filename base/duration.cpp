#include "base/duration.h"

#include <cstdint>
#include <limits>
#include <stdexcept>

namespace crius {
namespace {

struct Unit {
  std::string_view name;
  std::uint64_t ns;
};
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\u00b5s", 1'000},  // micro sign
    {"\u03bcs", 1'000},  // Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view text) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("invalid duration \"" + std::string(text) + "\": " + why);
  };
  // Go's limit: the nanosecond count fits an int64.
  constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();

  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) fail("empty");

  std::uint64_t total_ns = 0;
  while (!s.empty()) {
    std::uint64_t whole = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (whole > (kMax - (s[i] - '0')) / 10) fail("out of range");
      whole = whole * 10 + (s[i] - '0');
    }
    bool have_digits = i > 0;
    // The fraction is kept as digits/scale; digits past 18 cannot matter at ns precision.
    std::uint64_t frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      for (++i; i < s.size() && is_digit(s[i]); ++i, have_digits = true) {
        if (scale < 1'000'000'000'000'000'000ULL) {
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!have_digits) fail("expected a number");
    std::size_t u = i;
    while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
    std::string_view unit_name = s.substr(i, u - i);
    if (unit_name.empty()) fail("missing unit (one of h, m, s, ms, us, ns)");
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits)
      if (candidate.name == unit_name) unit = &candidate;
    if (!unit) fail("unknown unit \"" + std::string(unit_name) + "\"");

    if (whole > kMax / unit->ns) fail("out of range");
    std::uint64_t ns = whole * unit->ns;
    ns += static_cast<std::uint64_t>(static_cast<long double>(frac) * unit->ns / scale);
    if (ns > kMax - total_ns) fail("out of range");
    total_ns += ns;
    s.remove_prefix(u);
  }
  const auto ns = static_cast<std::int64_t>(total_ns);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t count = d.count();
  if (count == 0) return "0s";
  std::string out = count < 0 ? "-" : "";
  // Unsigned, so that the most negative value has a magnitude too.
  std::uint64_t ms = count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  if (ms < 1000) return out + std::to_string(ms) + "ms";

  std::uint64_t h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s || frac) {
    out += std::to_string(s);
    if (frac) {
      std::string digits = std::to_string(frac);
      digits.insert(0, 3 - digits.size(), '0');
      digits.erase(digits.find_last_not_of('0') + 1);
      out += "." + digits;
    }
    out += "s";
  }
  return out;
}

}  // namespace crius
