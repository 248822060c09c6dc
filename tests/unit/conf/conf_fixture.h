// A private config directory for config tests, so that /etc is never read:
// every load passes --config pointing into it, and systemd detection is fixed.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "conf/load.h"

namespace crius::conf {

class ConfFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crius-conf-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    main_ = dir_ + "/crius.yaml";
    dropins_ = dir_ + "/crius.d";
    write(main_, "");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
  }

  Options options(std::initializer_list<std::string> flags = {}) {
    std::vector<std::string> args = {"crius", "--config", main_};
    args.insert(args.end(), flags);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_args(static_cast<int>(argv.size()), argv.data());
  }

  Config load_with(std::initializer_list<std::string> flags = {}, bool systemd = false) {
    return load(options(flags), systemd ? +[] { return true; } : +[] { return false; });
  }

  // The ConfigError text for loading with `flags`; a failure if load accepts.
  std::string error(std::initializer_list<std::string> flags = {}) {
    try {
      load_with(flags);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "load accepted the config";
    return "";
  }

  std::string dir_, main_, dropins_;
};

}  // namespace crius::conf
