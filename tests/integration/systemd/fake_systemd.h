// Runs crius-fake-systemd (fake_systemd.cpp) for one test and reads the
// calls it recorded. Header-only: the integration and e2e tests share it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace crius::testing {

class FakeSystemd {
 public:
  // Listens on dir/systemd.sock and logs to dir/calls.jsonl; ready() says
  // whether the socket appeared within 5s.
  FakeSystemd(const std::string& binary, const std::string& dir)
      : socket_(dir + "/systemd.sock"), log_(dir + "/calls.jsonl") {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(binary.c_str(), "crius-fake-systemd", socket_.c_str(), log_.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~FakeSystemd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  bool ready() const { return pid_ > 0 && ::access(socket_.c_str(), F_OK) == 0; }
  // What CRIUS_SYSTEMD_BUS must say to reach it.
  std::string address() const { return "unix:path=" + socket_; }
  // Recorded calls of one method, oldest first.
  std::vector<nlohmann::json> calls(const std::string& method) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(log_);
    std::string line;
    while (std::getline(in, line))
      if (auto j = nlohmann::json::parse(line); j.value("method", "") == method) out.push_back(j);
    return out;
  }

 private:
  std::string socket_, log_;
  pid_t pid_ = -1;
};

}  // namespace crius::testing
