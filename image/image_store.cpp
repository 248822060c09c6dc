#include "image/image_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "image/reference.h"

namespace crius::image {
namespace {

using nlohmann::json;

json to_json(const ImageRecord& r) {
  return json{{"id", r.id},
              {"repo_tags", r.repo_tags},
              {"repo_digests", r.repo_digests},
              {"manifest_digest", r.manifest_digest},
              {"layers", r.layers},
              {"diff_ids", r.diff_ids},
              {"size", r.size},
              {"user", r.user},
              {"working_dir", r.working_dir},
              {"stop_signal", r.stop_signal},
              {"env", r.env},
              {"entrypoint", r.entrypoint},
              {"cmd", r.cmd},
              {"volumes", r.volumes},
              {"labels", r.labels}};
}

ImageRecord from_json(const json& j) {
  ImageRecord r;
  r.id = j.at("id").get<std::string>();
  r.repo_tags = j.value("repo_tags", std::vector<std::string>{});
  r.repo_digests = j.value("repo_digests", std::vector<std::string>{});
  r.manifest_digest = j.value("manifest_digest", "");
  r.layers = j.value("layers", std::vector<std::string>{});
  r.diff_ids = j.value("diff_ids", std::vector<std::string>{});
  r.size = j.value("size", uint64_t{0});
  r.user = j.value("user", "");
  r.working_dir = j.value("working_dir", "");
  r.stop_signal = j.value("stop_signal", "");
  r.env = j.value("env", std::vector<std::string>{});
  r.entrypoint = j.value("entrypoint", std::vector<std::string>{});
  r.cmd = j.value("cmd", std::vector<std::string>{});
  r.volumes = j.value("volumes", std::vector<std::string>{});
  r.labels = j.value("labels", std::map<std::string, std::string>{});
  return r;
}

std::vector<std::string> strings(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_array()) throw InvalidArgument(std::string("image config: \"") + key + "\" is not a list");
  std::vector<std::string> out;
  for (const auto& v : *it) out.push_back(v.get<std::string>());
  return out;
}

std::string string_of(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); });
}

void erase_value(std::vector<std::string>& v, const std::string& s) { v.erase(std::remove(v.begin(), v.end(), s), v.end()); }

}  // namespace

void read_image_config(const std::string& config_json, ImageRecord& r) {
  json j;
  try {
    j = json::parse(config_json);
  } catch (const std::exception& e) {
    throw InvalidArgument(std::string("image config is not JSON: ") + e.what());
  }
  if (!j.is_object()) throw InvalidArgument("image config is not a JSON object");
  try {
    if (auto rootfs = j.find("rootfs"); rootfs != j.end() && rootfs->is_object()) r.diff_ids = strings(*rootfs, "diff_ids");
    auto c = j.find("config");
    if (c == j.end() || !c->is_object()) return;
    r.user = string_of(*c, "User");
    r.working_dir = string_of(*c, "WorkingDir");
    r.stop_signal = string_of(*c, "StopSignal");
    r.env = strings(*c, "Env");
    r.entrypoint = strings(*c, "Entrypoint");
    r.cmd = strings(*c, "Cmd");
    r.volumes.clear();
    if (auto v = c->find("Volumes"); v != c->end() && v->is_object())
      for (const auto& [k, _] : v->items()) r.volumes.push_back(k);
    r.labels.clear();
    if (auto l = c->find("Labels"); l != c->end() && l->is_object())
      for (const auto& [k, v] : l->items())
        if (v.is_string()) r.labels[k] = v.get<std::string>();
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("image config: ") + e.what());
  }
}

ImageUser image_user(const std::string& user) {
  ImageUser u;
  std::string first = user.substr(0, user.find(':'));
  if (first.empty()) return u;
  if (std::all_of(first.begin(), first.end(), [](char c) { return c >= '0' && c <= '9'; }) && first.size() < 12)
    u.uid = std::stoll(first);
  else
    u.username = first;
  return u;
}

bool is_pinned(const ImageRecord& r, const std::vector<std::string>& pinned) {
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (const auto& entry : pinned) {
    if (is_sha256_digest(entry)) {
      if (entry == r.id) return true;
      continue;
    }
    Reference ref;
    try {
      ref = parse_reference(entry);
    } catch (const Error& e) {
      // The config is read again on reload; say so once per entry.
      static std::mutex mu;
      static std::set<std::string> reported;
      std::lock_guard lock(mu);
      if (reported.insert(entry).second)
        log::warn("ignoring image.pinned_images entry", {{"entry", entry}, {"error", e.what()}});
      continue;
    }
    if (!ref.digest.empty() ? has(r.repo_digests, ref.digested(ref.digest)) : has(r.repo_tags, ref.tagged()))
      return true;
  }
  return false;
}

ImageStore::ImageStore(std::string dir) : path_(dir + "/images.json") {
  mkdir_all(dir, 0755);
  const auto text = read_file_if_exists(path_);
  if (!text) return;
  try {
    const json doc = json::parse(*text);
    for (const auto& j : doc.at("images")) {
      ImageRecord r = from_json(j);
      images_[r.id] = std::move(r);
    }
  } catch (const std::exception& e) {
    throw Internal("reading image records " + path_ + ": " + e.what());
  }
  log::info("image records loaded", {{"path", path_}, {"images", std::to_string(images_.size())}});
}

void ImageStore::save(std::map<std::string, ImageRecord> images) {
  json list = json::array();
  for (const auto& [_, r] : images) list.push_back(to_json(r));
  write_file_atomic(path_, json{{"images", list}}.dump());
  images_ = std::move(images);
}

std::vector<ImageRecord> ImageStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<ImageRecord> out;
  for (const auto& [_, r] : images_) out.push_back(r);
  return out;
}

std::optional<std::string> ImageStore::find_id(const std::string& what, const std::vector<std::string>& search) const {
  if (what.empty()) return std::nullopt;
  if (images_.count(what)) return what;
  if (is_hex(what) && what.size() == 64 && images_.count("sha256:" + what)) return "sha256:" + what;
  if (!is_sha256_digest(what)) {
    std::vector<Reference> candidates;
    try {
      candidates = resolve_candidates(what, search);
    } catch (const Error& e) {
      // Not a reference: it may still be an ID prefix, tried below.
      log::debug("image lookup: not a reference", {{"what", what}, {"error", e.what()}});
    }
    for (const auto& ref : candidates) {
      for (const auto& [id, r] : images_) {
        if (!ref.digest.empty()) {
          if (std::find(r.repo_digests.begin(), r.repo_digests.end(), ref.digested(ref.digest)) != r.repo_digests.end())
            return id;
        } else if (std::find(r.repo_tags.begin(), r.repo_tags.end(), ref.tagged()) != r.repo_tags.end()) {
          return id;
        }
      }
    }
  }
  std::string prefix = what.starts_with("sha256:") ? what.substr(7) : what;
  if (is_hex(prefix) && prefix.size() >= 3) {
    std::optional<std::string> found;
    for (const auto& [id, _] : images_)
      if (id.compare(7, prefix.size(), prefix) == 0) {
        if (found) return std::nullopt;  // ambiguous
        found = id;
      }
    return found;
  }
  return std::nullopt;
}

std::optional<ImageRecord> ImageStore::find(const std::string& what, const std::vector<std::string>& search) const {
  std::lock_guard lock(mu_);
  auto id = find_id(what, search);
  if (!id) return std::nullopt;
  return images_.at(*id);
}

void ImageStore::add(ImageRecord r, const std::string& tag, const std::string& repo_digest) {
  std::lock_guard lock(mu_);
  auto images = images_;
  auto it = images.find(r.id);
  if (it != images.end()) {
    r.repo_tags = it->second.repo_tags;
    r.repo_digests = it->second.repo_digests;
  }
  if (!tag.empty()) {
    for (auto& [id, other] : images)
      if (id != r.id) erase_value(other.repo_tags, tag);
    if (std::find(r.repo_tags.begin(), r.repo_tags.end(), tag) == r.repo_tags.end()) r.repo_tags.push_back(tag);
  }
  if (!repo_digest.empty() &&
      std::find(r.repo_digests.begin(), r.repo_digests.end(), repo_digest) == r.repo_digests.end())
    r.repo_digests.push_back(repo_digest);
  images[r.id] = std::move(r);
  save(std::move(images));
}

ImageStore::Removal ImageStore::remove(const std::string& what, const std::vector<std::string>& search,
                                       const std::function<void(const ImageRecord&)>& check) {
  std::lock_guard lock(mu_);
  Removal out;
  auto id = find_id(what, search);
  if (!id) return out;
  auto images = images_;
  ImageRecord& r = images.at(*id);
  // A tag reference untags when the image keeps other tags.
  if (r.repo_tags.size() > 1 && !is_sha256_digest(what) && what != *id) {
    try {
      for (const auto& ref : resolve_candidates(what, search)) {
        if (!ref.digest.empty()) break;
        auto t = std::find(r.repo_tags.begin(), r.repo_tags.end(), ref.tagged());
        if (t != r.repo_tags.end()) {
          r.repo_tags.erase(t);
          save(std::move(images));
          out.untagged = true;
          return out;
        }
      }
    } catch (const Error& e) {
      // Not a reference (an ID prefix): it names the whole image, removed below.
      log::debug("image removal: not a tag reference", {{"what", what}, {"error", e.what()}});
    }
  }
  if (check) check(r);
  ImageRecord removed = std::move(r);
  images.erase(*id);
  save(std::move(images));
  out.removed = std::move(removed);
  return out;
}

std::vector<std::string> ImageStore::unused_layers(const std::vector<std::string>& candidates) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& l : candidates) {
    bool used = false;
    for (const auto& [_, r] : images_)
      if (std::find(r.layers.begin(), r.layers.end(), l) != r.layers.end()) used = true;
    if (!used && std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
  }
  return out;
}

}  // namespace crius::image
