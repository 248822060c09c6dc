#include "container/direct_runtime.h"

#include <chrono>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/process.h"
#include "base/strings.h"
#include "oci/runtime/container.h"

namespace crius::container {

namespace rt = crius::oci::runtime;

namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(60);

bool builtin(const oci::monitor::Handler& h) { return h.binary.empty(); }

std::vector<std::string> command(const oci::monitor::Handler& h, std::vector<std::string> args) {
  std::vector<std::string> argv = {h.binary};
  if (!h.root.empty()) argv.push_back("--root=" + h.root);
  if (h.systemd_cgroup) argv.push_back("--systemd-cgroup");
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

ProcessResult run(const oci::monitor::Handler& h, std::vector<std::string> args) {
  return run_process(command(h, std::move(args)), {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                     "", kCommandTimeout);
}

// runc and crun print "container does not exist" / "not found" for an unknown ID.
bool says_unknown(const ProcessResult& r) {
  return r.err.find("not exist") != std::string::npos || r.err.find("not found") != std::string::npos;
}

[[noreturn]] void fail(const oci::monitor::Handler& h, const std::string& verb, const std::string& id,
                       const ProcessResult& r) {
  std::string why = r.timed_out ? "timed out" : "exit status " + std::to_string(r.exit_code);
  throw Internal(h.name + ": " + verb + " " + id + ": " + why + (r.err.empty() ? "" : ": " + trim(r.err)));
}

}  // namespace

RuntimeStatus runtime_status(const oci::monitor::Handler& h, const std::string& id) {
  if (builtin(h)) {
    try {
      switch (rt::Container::load(h.root, id).state().status) {
        case rt::Status::created: return RuntimeStatus::created;
        case rt::Status::running: return RuntimeStatus::running;
        case rt::Status::paused: return RuntimeStatus::paused;
        case rt::Status::creating:
        case rt::Status::stopped: return RuntimeStatus::stopped;
      }
    } catch (const Error& e) {
      if (e.code() == ErrorCode::not_found) return RuntimeStatus::unknown;
      throw;
    }
    return RuntimeStatus::unknown;
  }
  const ProcessResult r = run(h, {"state", id});
  if (r.exit_code != 0) {
    if (says_unknown(r)) return RuntimeStatus::unknown;
    fail(h, "state", id, r);
  }
  const auto state = nlohmann::json::parse(r.out, nullptr, false);
  const std::string s = state.is_object() ? state.value("status", "") : "";
  if (s == "created") return RuntimeStatus::created;
  if (s == "running") return RuntimeStatus::running;
  if (s == "paused") return RuntimeStatus::paused;
  if (s == "stopped") return RuntimeStatus::stopped;
  throw Internal(h.name + ": state " + id + ": unexpected answer \"" + trim(r.out) + "\"");
}

void runtime_kill(const oci::monitor::Handler& h, const std::string& id, int signal, bool all) {
  if (builtin(h)) {
    try {
      rt::Container::load(h.root, id).kill(signal, all);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found && e.code() != ErrorCode::failed_precondition) throw;
    }
    return;
  }
  std::vector<std::string> args = {"kill"};
  if (all) args.push_back("--all");
  args.insert(args.end(), {id, std::to_string(signal)});
  const ProcessResult r = run(h, args);
  // Not running any more (or never known) is what the caller wants anyway.
  if (r.exit_code != 0 && runtime_status(h, id) == RuntimeStatus::running) fail(h, "kill", id, r);
}

void runtime_delete(const oci::monitor::Handler& h, const std::string& id) {
  if (builtin(h)) {
    try {
      rt::Container::load(h.root, id).destroy(true);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
    return;
  }
  const ProcessResult r = run(h, {"delete", "--force", id});
  if (r.exit_code != 0 && !says_unknown(r)) fail(h, "delete", id, r);
}

}  // namespace crius::container
