#include "oci/cdi/registry.h"

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "base/log.h"
#include "oci/cdi/edits.h"

namespace crius::oci::cdi {
namespace {

namespace fs = std::filesystem;

// The spec files of one directory, in name order; nothing when it is missing.
std::vector<std::string> spec_files(const std::string& dir, std::vector<SpecProblem>& problems) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) {
    if (ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
      problems.push_back({dir, "cannot read the directory: " + ec.message()});
    return files;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      problems.push_back({dir, "cannot read the directory: " + ec.message()});
      break;
    }
    const std::string name = it->path().filename().string();
    if (!name.ends_with(".json") && !name.ends_with(".yaml")) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;  // (through a symlink) no directory, and no FIFO to block on
    files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Catalog scan(const std::vector<std::string>& dirs) {
  Catalog c;
  c.dirs = dirs;
  std::map<std::string, std::size_t> priority;  // of each device's spec dir
  std::map<std::string, std::vector<std::string>> conflicts;  // device -> files at the same priority
  for (std::size_t p = 0; p < dirs.size(); ++p) {
    for (const std::string& path : spec_files(dirs[p], c.problems)) {
      std::shared_ptr<const Spec> spec;
      try {
        spec = std::make_shared<const Spec>(read_spec(path));
      } catch (const Error& e) {
        c.problems.push_back({path, e.what()});
        continue;
      }
      for (const Device& d : spec->devices) {
        const std::string name = spec->kind + "=" + d.name;
        auto [it, added] = priority.try_emplace(name, p);
        if (!added && it->second == p) {
          auto& files = conflicts[name];
          if (files.empty()) files.push_back(c.devices[name].spec->path);
          files.push_back(path);
          continue;
        }
        it->second = p;  // a later directory wins
        conflicts.erase(name);
        c.devices[name] = KnownDevice{spec, &d};
      }
    }
  }
  for (const auto& [name, files] : conflicts) {
    c.devices.erase(name);
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
    for (const auto& f : files)
      c.problems.push_back({f, "device " + name + " is also defined in another file of the same directory (" + list +
                                   "); neither is used"});
  }
  return c;
}

nlohmann::json describe(const Catalog& catalog) {
  nlohmann::json devices = nlohmann::json::array(), errors = nlohmann::json::array();
  for (const auto& [name, d] : catalog.devices) devices.push_back({{"name", name}, {"spec", d.spec->path}});
  for (const auto& p : catalog.problems) errors.push_back({{"path", p.path}, {"error", p.reason}});
  return {{"specDirs", catalog.dirs}, {"devices", devices}, {"specErrors", errors}};
}

Registry::~Registry() = default;

std::shared_ptr<const Catalog> Registry::catalog(const std::vector<std::string>& dirs) {
  std::lock_guard lock(mu_);
  bool stale = !catalog_ || dirs != dirs_;
  if (dirs != dirs_) {
    dirs_ = dirs;
    watches_.clear();
    generations_.assign(dirs.size(), 0);
    for (const auto& d : dirs) {
      try {
        watches_.push_back(std::make_unique<DirWatch>(d));
      } catch (const Error& e) {
        log::warn("cannot watch a CDI spec dir; reading it at every lookup", {{"dir", d}, {"error", e.what()}});
        watches_.push_back(nullptr);
      }
    }
  }
  // Drain every watch before reading, so a change during the scan makes the next call read again.
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    const uint64_t g = watches_[i] ? watches_[i]->generation() : generations_[i] + 1;
    stale |= g != generations_[i];
    generations_[i] = g;
  }
  if (stale) {
    catalog_ = std::make_shared<const Catalog>(scan(dirs_));
    for (const auto& p : catalog_->problems)
      log::warn("CDI spec file not used", {{"path", p.path}, {"error", p.reason}});
  }
  return catalog_;
}

void Registry::inject(nlohmann::json& oci, const std::vector<Request>& requests, const std::vector<std::string>& dirs) {
  if (requests.empty()) return;
  const std::shared_ptr<const Catalog> c = catalog(dirs);  // keeps the edits alive while they are applied
  apply_edits(oci, resolve(*c, requests));
}

}  // namespace crius::oci::cdi
