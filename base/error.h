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
inline Error ResourceExhausted(const std::string& m) { return {ErrorCode::resource_exhausted, m}; }
inline Error PermissionDenied(const std::string& m) { return {ErrorCode::permission_denied, m}; }
inline Error Unauthenticated(const std::string& m) { return {ErrorCode::unauthenticated, m}; }
inline Error Internal(const std::string& m) { return {ErrorCode::internal, m}; }

// "<what>: <strerror(err)>", for failed system calls.
std::string errno_text(const std::string& what, int err);

// The error for a failed system call, "<what>: <strerror(err)>" (err < 0:
// errno). The code says what the client can do about it: ENOENT is
// NotFound, EEXIST AlreadyExists, EPERM and EACCES FailedPrecondition,
// ENOSPC and EDQUOT ResourceExhausted (free space and retry), and
// everything else (EINVAL among it) Internal: a kernel that refuses a call
// is the runtime's problem, not bad input, which is refused before any call.
Error errno_error(const std::string& what, int err = -1);
[[noreturn]] void throw_errno(const std::string& what, int err = -1);
// For a failed write of the runtime's own files, where a missing directory
// is no fault of the client's: ResourceExhausted when the disk or the quota
// is full, else Internal.
Error write_error(const std::string& what, int err = -1);

}  // namespace crius
