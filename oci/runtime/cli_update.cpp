// update: a live change of the container's linux.resources, from
// --resources FILE|- and runc's flags.
#include <cctype>
#include <cstdint>
#include <iostream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "oci/runtime/cli_internal.h"

namespace crius::oci::runtime::cli {
namespace {

// "512m", "1G", "100000", "-1": runc's byte values.
int64_t parse_bytes(const std::string& v, const std::string& flag) {
  if (v == "-1") return -1;
  size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  std::string unit = v.substr(i);
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!unit.empty() && unit.back() == 'b' && unit != "b") unit.pop_back();
  int shift = unit.empty() || unit == "b" ? 0 : unit == "k" ? 10 : unit == "m" ? 20 : unit == "g" ? 30 : unit == "t" ? 40 : -1;
  if (i == 0 || shift < 0) throw InvalidArgument("update: --" + flag + ": \"" + v + "\" is not a byte count like 512m");
  try {
    return static_cast<int64_t>(std::stoull(v.substr(0, i)) << shift);
  } catch (const std::exception&) {
    throw InvalidArgument("update: --" + flag + ": \"" + v + "\" is out of range");
  }
}

int64_t parse_i64(const std::string& v, const std::string& flag) {
  try {
    size_t pos;
    long long n = std::stoll(v, &pos);
    if (pos != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw InvalidArgument("update: --" + flag + ": \"" + v + "\" is not an integer");
  }
}

// linux.resources from --resources FILE|- and runc's flags (flags win).
nlohmann::json update_resources(const ParsedArgs& a) {
  nlohmann::json r = nlohmann::json::object();
  if (a.has("resources")) {
    const std::string f = a.get("resources");
    std::string text;
    if (f == "-") {
      std::string line;
      while (std::getline(std::cin, line)) text += line + "\n";
    } else {
      text = read_file(f);
    }
    try {
      r = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument("update: --resources " + f + ": invalid JSON: " + e.what());
    }
    if (!r.is_object()) throw InvalidArgument("update: --resources " + f + ": not a JSON object");
  }
  auto set = [&](const char* flag, const char* group, const char* key, bool bytes, bool is_unsigned) {
    if (!a.has(flag)) return;
    const int64_t v = bytes ? parse_bytes(a.get(flag), flag) : parse_i64(a.get(flag), flag);
    if (is_unsigned && v < 0) throw InvalidArgument(std::string("update: --") + flag + ": must not be negative");
    if (is_unsigned)
      r[group][key] = static_cast<uint64_t>(v);
    else
      r[group][key] = v;
  };
  set("memory", "memory", "limit", true, false);
  set("memory-reservation", "memory", "reservation", true, false);
  set("memory-swap", "memory", "swap", true, false);
  set("kernel-memory", "memory", "kernel", true, false);
  set("kernel-memory-tcp", "memory", "kernelTCP", true, false);
  set("cpu-share", "cpu", "shares", false, true);
  set("cpu-shares", "cpu", "shares", false, true);
  set("cpu-quota", "cpu", "quota", false, false);
  set("cpu-period", "cpu", "period", false, true);
  set("cpu-rt-period", "cpu", "realtimePeriod", false, true);
  set("cpu-rt-runtime", "cpu", "realtimeRuntime", false, false);
  set("pids-limit", "pids", "limit", false, false);
  set("blkio-weight", "blockIO", "weight", false, true);
  if (a.has("cpuset-cpus")) r["cpu"]["cpus"] = a.get("cpuset-cpus");
  if (a.has("cpuset-mems")) r["cpu"]["mems"] = a.get("cpuset-mems");
  return r;
}

}  // namespace

int cmd_update(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  Container::load(root, id).update(update_resources(a));
  return 0;
}

}  // namespace crius::oci::runtime::cli
