// How a remotecommand session ends, as the error stream reports it: a
// Kubernetes metav1.Status in JSON on protocol v4 and later (client-go
// reads the exit code from it), the bare error text on older ones (nothing
// on success).
#pragma once

#include <optional>
#include <string>

namespace crius::streaming {

struct Outcome {
  std::optional<int> exit_code;  // the process ended with it
  std::string error;             // or it could not be run / the link broke
  static Outcome exited(int code) { return {code, {}}; }
  static Outcome failed(std::string why) { return {std::nullopt, std::move(why)}; }
};

// Status JSON: Success; Failure/NonZeroExitCode with an ExitCode cause;
// Failure/InternalError (code 500) for an error.
std::string status_json(const Outcome& o);
// The pre-v4 error text; empty on success.
std::string status_text(const Outcome& o);

}  // namespace crius::streaming
