#include "base/mountinfo.h"

#include <cstdlib>

#include "base/file.h"
#include "base/strings.h"

namespace crius {

std::string MountInfo::propagation() const {
  std::string prop = "private";
  for (const auto& f : optional) {
    if (f.starts_with("shared:")) return "shared";
    if (f.starts_with("master:")) prop = "slave";
  }
  return prop;
}

std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k)
        if (s[i + k] < '0' || s[i + k] > '7') octal = false;
      if (octal) {
        out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<MountInfo> parse_mountinfo(const std::string& text) {
  std::vector<MountInfo> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const auto f = words(std::string_view(text).substr(start, end - start));
    start = end + 1;
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 2 >= f.size()) continue;
    MountInfo m;
    m.id = std::atoi(f[0].c_str());
    m.parent = std::atoi(f[1].c_str());
    m.root = unescape_mountinfo(f[3]);
    m.mount_point = unescape_mountinfo(f[4]);
    m.options = f[5];
    m.optional.assign(f.begin() + 6, f.begin() + static_cast<long>(dash));
    m.fs_type = f[dash + 1];
    m.source = unescape_mountinfo(f[dash + 2]);
    m.super_options = dash + 3 < f.size() ? f[dash + 3] : "";
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MountInfo> read_mountinfo(const std::string& path) { return parse_mountinfo(read_file(path)); }

}  // namespace crius
