#include "tests/integration/package/package_helpers.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <fstream>
#include <iterator>
#include <vector>

namespace crius::test::package {

namespace fs = std::filesystem;

Cmd sh(const std::string& cmd) {
  Cmd r;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  const int st = ::pclose(f);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::string& deb() {
  static const std::string path = [] {
    const fs::path dir = CRIUS_BINARY_DIR "/tests/integration/package/deb";
    std::string arch = sh("dpkg --print-architecture").out;
    arch.erase(arch.find_last_not_of('\n') + 1);
    const fs::path deb = dir / ("crius_" CRIUS_VERSION "_" + arch + ".deb");
    std::vector<fs::path> inputs = {CRIUS_BINARY_DIR "/CPackConfig.cmake"};
    for (const char* b : {"crius", "crius-runtime", "crius-monitor", "crius-pause", "crius-pull"})
      inputs.push_back(fs::path(CRIUS_BINARY_DIR "/cmd") / b);
    for (const auto& e : fs::recursive_directory_iterator(CRIUS_SOURCE_DIR "/deploy")) inputs.push_back(e.path());
    std::error_code ec;
    bool fresh = fs::exists(deb);
    for (const auto& in : inputs) fresh = fresh && fs::last_write_time(in, ec) < fs::last_write_time(deb, ec);
    if (fresh) return deb.string();
    fs::remove_all(dir, ec);
    const Cmd built =
        sh(std::string(CRIUS_CPACK) + " --config " CRIUS_BINARY_DIR "/CPackConfig.cmake -B " + dir.string());
    fs::remove_all(dir / "_CPack_Packages", ec);  // the staging tree, 15 MB
    if (fs::exists(deb)) return deb.string();
    ADD_FAILURE() << "cpack made no " << deb << ":\n" << built.out;
    return std::string();
  }();
  return path;
}

grpc::Status stop_and_remove_pod(runtime::v1::RuntimeService::Stub& rt, const std::string& pod_id) {
  auto call = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return c;
  };
  runtime::v1::StopPodSandboxRequest stop_req;
  stop_req.set_pod_sandbox_id(pod_id);
  runtime::v1::StopPodSandboxResponse stop_res;
  if (auto s = rt.StopPodSandbox(call().get(), stop_req, &stop_res); !s.ok()) return s;
  runtime::v1::RemovePodSandboxRequest rm_req;
  rm_req.set_pod_sandbox_id(pod_id);
  runtime::v1::RemovePodSandboxResponse rm_res;
  return rt.RemovePodSandbox(call().get(), rm_req, &rm_res);
}

}  // namespace crius::test::package
