// Decoding one YAML layer onto the config model. Types and key names are
// checked here, where the source is known; values are checked after merging
// (validate.cpp), since a later layer may still fix them.
#include <charconv>
#include <cstdio>
#include <limits>
#include <set>
#include <stdexcept>

#include "conf/layer.h"
#include "conf/load.h"

namespace crius::conf {

std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

namespace {

bool is_under(const std::string& candidate, const std::string& key) {
  return candidate.size() > key.size() && candidate.starts_with(key) &&
         (candidate[key.size()] == '.' || candidate[key.size()] == '[');
}

}  // namespace

void Origins::set(const std::string& key, const std::string& source) {
  erase(key);
  by_key_[key] = source;
}

void Origins::note(const std::string& key, const std::string& source) { by_key_[key] = source; }

void Origins::erase(const std::string& key) {
  // Keys under `key` sort after it, though not always right after ("key-x" < "key.x").
  for (auto it = by_key_.lower_bound(key); it != by_key_.end() && it->first.starts_with(key);)
    it = it->first == key || is_under(it->first, key) ? by_key_.erase(it) : std::next(it);
}

std::string Origins::source_of(const std::string& key) const {
  std::string k = key;
  while (!k.empty()) {
    if (auto it = by_key_.find(k); it != by_key_.end()) return it->second;
    std::size_t cut = k.find_last_of(".[");
    if (cut == std::string::npos) break;
    k.resize(cut);
  }
  return "config";
}

namespace {

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Scalar: return in_quotes(n.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

// Decodes one layer. Leaf setters skip a null value (the key is left as the
// earlier layers had it) and record where the value came from.
class Layer {
 public:
  Layer(const std::string& source, Origins& origins) : source_(source), origins_(origins) {}

  void apply(const YAML::Node& top, Config& c) {
    if (top.IsNull()) return;  // an empty file
    if (!top.IsMap()) throw ConfigError(source_ + ": expected a mapping of config keys, got " + describe(top));
    each_key(top, "", [&](const std::string& k, const YAML::Node& v, const std::string& p) {
      if (k == "root") set(c.root, v, p);
      else if (k == "state") set(c.state, v, p);
      else if (k == "listen") set(c.listen, v, p);
      else if (k == "log_level") set(c.log_level, v, p);
      else if (k == "log_format") set(c.log_format, v, p);
      else if (k == "cgroup_driver") set(c.cgroup_driver, v, p);
      else if (k == "network") network(v, p, c.network);
      else if (k == "image") image(v, p, c.image);
      else if (k == "runtime") runtime(v, p, c.runtime);
      else if (k == "streaming") streaming(v, p, c.streaming);
      else if (k == "metrics") metrics(v, p, c.metrics);
      else return false;
      return true;
    });
  }

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw ConfigError(source_ + ": " + key + ": " + why);
  }

  // Calls field(key, value, path) for each entry of mapping `n`; field()
  // returns false for a key it does not know.
  template <class Field>
  void each_key(const YAML::Node& n, const std::string& path, Field field) {
    if (!n.IsMap()) fail(path, "expected a mapping, got " + describe(n));
    std::set<std::string> seen;
    for (const auto& entry : n) {
      if (!entry.first.IsScalar()) fail(path, "expected a key name, got " + describe(entry.first));
      const std::string& k = entry.first.Scalar();
      std::string child = (path.empty() ? "" : path + ".") + (k.empty() ? "\"\"" : k);
      if (!seen.insert(k).second) fail(child, "duplicate key");
      if (!field(k, entry.second, child)) fail(child, "unknown key");
    }
  }

  std::string scalar(const YAML::Node& v, const std::string& p, const char* expected) {
    if (!v.IsScalar()) fail(p, std::string("expected ") + expected + ", got " + describe(v));
    return v.Scalar();
  }

  void set(std::string& dst, const YAML::Node& v, const std::string& p) {
    if (v.IsNull()) return;
    dst = scalar(v, p, "a string");
    origins_.set(p, source_);
  }

  void set(int& dst, const YAML::Node& v, const std::string& p) {
    if (v.IsNull()) return;
    std::string s = scalar(v, p, "an integer");
    long long n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && (n < std::numeric_limits<int>::min() ||
                                                                        n > std::numeric_limits<int>::max())))
      fail(p, "integer out of range: " + s);
    if (ec != std::errc() || end != s.data() + s.size()) fail(p, "expected an integer, got " + in_quotes(s));
    dst = static_cast<int>(n);
    origins_.set(p, source_);
  }

  // A byte count, with an optional decimal (K, M, G) or binary (Ki, Mi, Gi) suffix.
  void set_size(std::int64_t& dst, const YAML::Node& v, const std::string& p) {
    if (v.IsNull()) return;
    std::string s = scalar(v, p, "a size");
    long long n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || n < 0) fail(p, "expected a size such as 65536, 64Mi or 1G, got " + in_quotes(s));
    static const std::pair<std::string_view, long long> kUnits[] = {
        {"", 1}, {"K", 1000}, {"M", 1000'000}, {"G", 1000'000'000}, {"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}};
    std::string_view suffix(end, static_cast<std::size_t>(s.data() + s.size() - end));
    const auto* unit = std::find_if(std::begin(kUnits), std::end(kUnits), [&](auto& u) { return u.first == suffix; });
    if (unit == std::end(kUnits)) fail(p, "expected a size such as 65536, 64Mi or 1G, got " + in_quotes(s));
    if (n > std::numeric_limits<std::int64_t>::max() / unit->second) fail(p, "size out of range: " + s);
    dst = n * unit->second;
    origins_.set(p, source_);
  }

  void set(bool& dst, const YAML::Node& v, const std::string& p) {
    if (v.IsNull()) return;
    std::string s = scalar(v, p, "true or false");
    if (!YAML::convert<bool>::decode(v, dst)) fail(p, "expected true or false, got " + in_quotes(s));
    origins_.set(p, source_);
  }

  // A duration string, or a whole number of seconds.
  void set(std::chrono::milliseconds& dst, const YAML::Node& v, const std::string& p) {
    if (v.IsNull()) return;
    std::string s = scalar(v, p, "a duration");
    long long seconds = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
    if (ec == std::errc() && end == s.data() + s.size()) {
      if (seconds > std::numeric_limits<long long>::max() / 1000 ||
          seconds < std::numeric_limits<long long>::min() / 1000)
        fail(p, "duration out of range: " + s);
      dst = std::chrono::seconds(seconds);
    } else {
      try {
        dst = parse_duration(s);
      } catch (const std::invalid_argument&) {
        fail(p, "expected a duration such as \"1m30s\" or a number of seconds, got " + in_quotes(s));
      }
    }
    origins_.set(p, source_);
  }

  void set(std::vector<std::string>& dst, const YAML::Node& v, const std::string& p) {
    if (v.IsNull()) return;
    if (!v.IsSequence()) fail(p, "expected a list of strings, got " + describe(v));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i)
      out.push_back(scalar(v[i], p + "[" + std::to_string(i) + "]", "a string"));
    dst = std::move(out);
    origins_.set(p, source_);
  }

  // Lists of records replace as a whole, like any list.
  template <class Record, class Fields>
  void set_records(std::vector<Record>& dst, const YAML::Node& v, const std::string& p, Fields fields) {
    if (v.IsNull()) return;
    if (!v.IsSequence()) fail(p, "expected a list, got " + describe(v));
    std::vector<Record> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      Record& r = out[i];
      each_key(v[i], p + "[" + std::to_string(i) + "]",
               [&](const std::string& k, const YAML::Node& fv, const std::string& fp) { return fields(r, k, fv, fp); });
    }
    dst = std::move(out);
    origins_.set(p, source_);
  }

  void network(const YAML::Node& v, const std::string& p, NetworkConfig& n) {
    if (v.IsNull()) return;
    each_key(v, p, [&](const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "cni_config_dir") set(n.cni_config_dir, fv, fp);
      else if (k == "cni_plugin_dirs") set(n.cni_plugin_dirs, fv, fp);
      else if (k == "cni_plugin_timeout") set(n.cni_plugin_timeout, fv, fp);
      else return false;
      return true;
    });
  }

  void image(const YAML::Node& v, const std::string& p, ImageConfig& im) {
    if (v.IsNull()) return;
    auto mirror_fields = [&](Mirror& m, const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "location") set(m.location, fv, fp);
      else if (k == "insecure") set(m.insecure, fv, fp);
      else return false;
      return true;
    };
    auto registry_fields = [&](Registry& r, const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "prefix") set(r.prefix, fv, fp);
      else if (k == "location") set(r.location, fv, fp);
      else if (k == "insecure") set(r.insecure, fv, fp);
      else if (k == "mirrors") set_records(r.mirrors, fv, fp, mirror_fields);
      else return false;
      return true;
    };
    each_key(v, p, [&](const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "registries") set_records(im.registries, fv, fp, registry_fields);
      else if (k == "short_name_search") set(im.short_name_search, fv, fp);
      else if (k == "pull_progress_timeout") set(im.pull_progress_timeout, fv, fp);
      else if (k == "max_parallel_layers") set(im.max_parallel_layers, fv, fp);
      else if (k == "pinned_images") set(im.pinned_images, fv, fp);
      else return false;
      return true;
    });
  }

  void runtime(const YAML::Node& v, const std::string& p, RuntimeConfig& r) {
    if (v.IsNull()) return;
    each_key(v, p, [&](const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "default_handler") set(r.default_handler, fv, fp);
      else if (k == "handlers") handlers(fv, fp, r.handlers);
      else if (k == "default_capabilities") set(r.default_capabilities, fv, fp);
      else if (k == "pids_limit") set(r.pids_limit, fv, fp);
      else if (k == "shm_size") set_size(r.shm_size, fv, fp);
      else if (k == "cdi_spec_dirs") set(r.cdi_spec_dirs, fv, fp);
      else if (k == "disk_usage_period") set(r.disk_usage_period, fv, fp);
      else return false;
      return true;
    });
  }

  // Merged by name, and field by field within a handler, so a drop-in can add
  // one handler or change one path without repeating the rest. Nothing removes
  // a handler, so the printed config (every handler) loads back the same.
  void handlers(const YAML::Node& v, const std::string& p, std::map<std::string, Handler>& hs) {
    if (v.IsNull()) return;
    each_key(v, p, [&](const std::string& name, const YAML::Node& hv, const std::string& hp) {
      if (hv.IsNull()) return true;
      if (!hv.IsMap()) fail(hp, "expected a mapping with type and path, got " + describe(hv));
      Handler& h = hs[name];
      origins_.note(hp, source_);
      each_key(hv, hp, [&](const std::string& k, const YAML::Node& fv, const std::string& fp) {
        if (k == "type") set(h.type, fv, fp);
        else if (k == "path") set(h.path, fv, fp);
        else return false;
        return true;
      });
      return true;
    });
  }

  void streaming(const YAML::Node& v, const std::string& p, StreamingConfig& s) {
    if (v.IsNull()) return;
    each_key(v, p, [&](const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "address") set(s.address, fv, fp);
      else if (k == "port") set(s.port, fv, fp);
      else if (k == "tls_cert") set(s.tls_cert, fv, fp);
      else if (k == "tls_key") set(s.tls_key, fv, fp);
      else if (k == "idle_timeout") set(s.idle_timeout, fv, fp);
      else if (k == "max_sessions") set(s.max_sessions, fv, fp);
      else return false;
      return true;
    });
  }

  void metrics(const YAML::Node& v, const std::string& p, MetricsConfig& m) {
    if (v.IsNull()) return;
    each_key(v, p, [&](const std::string& k, const YAML::Node& fv, const std::string& fp) {
      if (k == "enabled") set(m.enabled, fv, fp);
      else if (k == "address") set(m.address, fv, fp);
      else return false;
      return true;
    });
  }

  const std::string& source_;
  Origins& origins_;
};

}  // namespace

void apply_layer(const YAML::Node& top, const std::string& source, Config& config, Origins& origins) {
  Layer(source, origins).apply(top, config);
}

}  // namespace crius::conf
