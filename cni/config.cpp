#include "cni/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace crius::cni {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

Error bad(const std::string& file, const std::string& why) { return InvalidArgument("CNI config " + file + ": " + why); }

std::string string_field(const json& j, const char* key, const std::string& file, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
    throw bad(file, where + "\"" + key + "\" must be a non-empty string");
  return it->get<std::string>();
}

}  // namespace

bool supported_version(const std::string& v) { return std::find(kVersions.begin(), kVersions.end(), v) != kVersions.end(); }

bool version_at_least(const std::string& v, const std::string& min) {
  auto pos = [](const std::string& x) { return std::find(kVersions.begin(), kVersions.end(), x) - kVersions.begin(); };
  return pos(v) >= pos(min);
}

json NetworkList::to_json() const {
  json j = {{"cniVersion", cni_version}, {"name", name}, {"plugins", plugins}};
  if (disable_check) j["disableCheck"] = true;
  return j;
}

NetworkList NetworkList::from_json(const json& j, const std::string& file) {
  if (!j.is_object()) throw bad(file, "not a JSON object");
  NetworkList n;
  n.file = file;
  n.name = string_field(j, "name", file, "");
  n.cni_version = string_field(j, "cniVersion", file, "");
  if (!supported_version(n.cni_version))
    throw bad(file, "cniVersion " + n.cni_version + " is not supported (0.3.0 to 1.1.0 are)");
  if (auto dc = j.find("disableCheck"); dc != j.end()) {
    if (!dc->is_boolean()) throw bad(file, "\"disableCheck\" must be a boolean");
    n.disable_check = dc->get<bool>();
  }
  auto plugins = j.find("plugins");
  if (plugins == j.end() || !plugins->is_array()) throw bad(file, "\"plugins\" must be a list");
  if (plugins->empty()) throw bad(file, "\"plugins\" is empty");
  for (size_t i = 0; i < plugins->size(); ++i) {
    const json& p = (*plugins)[i];
    if (!p.is_object()) throw bad(file, "plugins[" + std::to_string(i) + "] is not an object");
    string_field(p, "type", file, "plugins[" + std::to_string(i) + "]: ");
    n.plugins.push_back(p);
  }
  return n;
}

NetworkList parse_network(const std::string& text, const std::string& file) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw bad(file, "not valid JSON");
  if (!j.is_object()) throw bad(file, "not a JSON object");
  const std::string ext = fs::path(file).extension().string();
  if (ext != ".conflist" && !j.contains("plugins")) {
    // A single plugin: the list takes its name and version.
    string_field(j, "type", file, "");
    json list = {{"name", j.value("name", json())}, {"cniVersion", j.value("cniVersion", json())}};
    list["plugins"] = json::array({j});
    return NetworkList::from_json(list, file);
  }
  return NetworkList::from_json(j, file);
}

Loaded load_first(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto ext = e.path().extension();
    if ((ext == ".conf" || ext == ".conflist" || ext == ".json") && e.is_regular_file(ec)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  Loaded out;
  if (files.empty()) {
    out.problem = "no CNI network config found in " + dir;
    return out;
  }
  std::string problems;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
      problems += (problems.empty() ? "" : "; ") + f + ": cannot be read";
      continue;
    }
    try {
      out.network = parse_network(ss.str(), f);
      return out;
    } catch (const Error& e) {
      problems += (problems.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  out.problem = "no valid CNI network config in " + dir + ": " + problems;
  return out;
}

std::string find_plugin(const std::string& type, const std::vector<std::string>& dirs) {
  if (type.find('/') != std::string::npos) return "";  // a type is a bare name, never a path
  for (const auto& d : dirs) {
    std::string p = d + "/" + type;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

}  // namespace crius::cni
