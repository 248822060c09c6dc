// The string helpers every parser here needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crius {

// Without leading and trailing whitespace (space, tab, CR, LF).
std::string trim(std::string_view s);
// The pieces between separators, empty ones included ("a,,b" → a, "", b);
// an empty string is one empty piece.
std::vector<std::string> split(std::string_view s, char sep);
// The whitespace-separated words, none empty.
std::vector<std::string> words(std::string_view s);
// The pieces with `sep` between each two.
std::string join(const std::vector<std::string>& pieces, std::string_view sep);

}  // namespace crius
