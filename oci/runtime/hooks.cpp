#include "oci/runtime/hooks.h"

#include <chrono>

#include "base/error.h"
#include "base/process.h"
#include "base/strings.h"

namespace crius::oci::runtime {

void run_hook(const Hook& h, const std::string& phase, const std::string& state_json) {
  const std::string what = phase + " hook " + h.path;
  const std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  // The spec gives hooks without a timeout no limit; a day stands in for
  // one (run_process always has a deadline).
  const std::chrono::milliseconds timeout =
      h.timeout ? std::chrono::milliseconds(std::chrono::seconds(*h.timeout)) : std::chrono::hours(24);
  ProcessResult r;
  try {
    r = run_process(args, h.env, state_json, timeout, h.path);
  } catch (const Error& e) {
    throw Error(e.code(), what + ": " + e.what());
  }
  if (r.timed_out)
    throw DeadlineExceeded(what + ": timed out after " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + "s");
  if (r.exit_code == 0) return;
  const std::string output = trim(r.out + r.err);
  if (r.exec_errno) throw FailedPrecondition(errno_text(what + " failed: exec " + h.path, r.exec_errno));
  const std::string how = r.exit_code >= 0 ? "exit status " + std::to_string(r.exit_code)
                                           : "killed by signal " + std::to_string(r.signal);
  throw FailedPrecondition(what + " failed: " + how + (output.empty() ? "" : ": " + output));
}

void run_hooks(const std::vector<Hook>& hooks, const std::string& phase, const std::string& state_json) {
  for (const auto& h : hooks) run_hook(h, phase, state_json);
}

}  // namespace crius::oci::runtime
