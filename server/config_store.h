// The effective config, swapped whole on SIGHUP reload. Readers take a
// snapshot and keep it for the length of their call.
#pragma once

#include <memory>
#include <mutex>

#include "conf/config.h"

namespace crius::server {

class ConfigStore {
 public:
  explicit ConfigStore(conf::Config c) : current_(std::make_shared<const conf::Config>(std::move(c))) {}

  std::shared_ptr<const conf::Config> get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void set(conf::Config c) {
    auto next = std::make_shared<const conf::Config>(std::move(c));
    std::lock_guard lock(mu_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const conf::Config> current_;
};

}  // namespace crius::server
