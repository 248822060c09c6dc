#include "oci/cgroups/hierarchy.h"

#include <sstream>
#include <vector>

#include "oci/runtime/sys.h"

namespace crius::oci::cgroups {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(part);
  return out;
}

// mountinfo escapes spaces and such as \040.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::v1: return "v1";
    case Mode::v2: return "v2";
    case Mode::hybrid: return "hybrid";
  }
  return "?";
}

Hierarchy Hierarchy::parse_mountinfo(const std::string& text) {
  Hierarchy h;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // id parent maj:min root mountpoint options [optional…] - fstype source superoptions
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const std::string mp = unescape(left[4]);
    if (right[0] == "cgroup2") {
      if (h.unified.empty()) h.unified = mp;
    } else if (right[0] == "cgroup") {
      for (const auto& opt : split(right[2], ',')) {
        if (opt == "rw" || opt == "ro" || opt == "clone_children" || opt == "noprefix" || opt == "xattr" ||
            opt.rfind("release_agent=", 0) == 0)
          continue;
        if (!h.v1.count(opt)) h.v1[opt] = mp;
      }
    }
  }
  bool any_v1 = false;
  for (const auto& [c, p] : h.v1)
    if (c.rfind("name=", 0) != 0) any_v1 = true;
  if (!any_v1 && !h.unified.empty())
    h.mode = Mode::v2;
  else if (any_v1 && !h.unified.empty())
    h.mode = Mode::hybrid;
  else
    h.mode = Mode::v1;
  return h;
}

const Hierarchy& Hierarchy::host() {
  static const Hierarchy h = [] {
    Hierarchy x = parse_mountinfo(runtime::read_file("/proc/self/mountinfo"));
    if (!x.unified.empty()) {
      try {
        for (const auto& c : split(runtime::read_file(x.unified + "/cgroup.controllers"), ' ')) {
          std::string t = c;
          while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
          if (!t.empty()) x.v2_controllers.insert(t);
        }
      } catch (const std::exception&) {
      }
    }
    return x;
  }();
  return h;
}

std::map<std::string, std::string> parse_proc_cgroup(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (ctrls.empty()) {
      out[""] = path;
      continue;
    }
    for (const auto& c : split(ctrls, ',')) out[c] = path;
  }
  return out;
}

}  // namespace crius::oci::cgroups
