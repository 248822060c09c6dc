// The error every layer throws when an operation fails for a reason the CRI
// client should see. The code maps one-to-one onto a gRPC status code; the
// message names what failed and on what (ID, path, errno text).
#pragma once

#include <stdexcept>
#include <string>

namespace crius {

enum class ErrorCode {
  invalid_argument,
  not_found,
  already_exists,
  failed_precondition,
  deadline_exceeded,
  unimplemented,
  unavailable,
  resource_exhausted,
  permission_denied,
  unauthenticated,
  internal,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

inline Error InvalidArgument(const std::string& m) { return {ErrorCode::invalid_argument, m}; }
inline Error NotFound(const std::string& m) { return {ErrorCode::not_found, m}; }
inline Error AlreadyExists(const std::string& m) { return {ErrorCode::already_exists, m}; }
inline Error FailedPrecondition(const std::string& m) { return {ErrorCode::failed_precondition, m}; }
inline Error DeadlineExceeded(const std::string& m) { return {ErrorCode::deadline_exceeded, m}; }
inline Error Unimplemented(const std::string& m) { return {ErrorCode::unimplemented, m}; }
inline Error Unavailable(const std::string& m) { return {ErrorCode::unavailable, m}; }
inline Error PermissionDenied(const std::string& m) { return {ErrorCode::permission_denied, m}; }
inline Error Unauthenticated(const std::string& m) { return {ErrorCode::unauthenticated, m}; }
inline Error Internal(const std::string& m) { return {ErrorCode::internal, m}; }

// "<what>: <strerror(err)>", for failed system calls.
std::string errno_text(const std::string& what, int err);

}  // namespace crius
