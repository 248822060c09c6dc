#include "server/rpc.h"

#include "base/error.h"
#include "base/log.h"

namespace crius::server {
namespace {

grpc::StatusCode to_grpc(ErrorCode c) {
  switch (c) {
    case ErrorCode::invalid_argument: return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::not_found: return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::already_exists: return grpc::StatusCode::ALREADY_EXISTS;
    case ErrorCode::failed_precondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::deadline_exceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case ErrorCode::unimplemented: return grpc::StatusCode::UNIMPLEMENTED;
    case ErrorCode::unavailable: return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::resource_exhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::permission_denied: return grpc::StatusCode::PERMISSION_DENIED;
    case ErrorCode::unauthenticated: return grpc::StatusCode::UNAUTHENTICATED;
    case ErrorCode::internal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

}  // namespace

std::string_view code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "Canceled";
    case grpc::StatusCode::UNKNOWN: return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT: return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND: return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS: return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED: return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FailedPrecondition";
    case grpc::StatusCode::ABORTED: return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE: return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED: return "Unimplemented";
    case grpc::StatusCode::INTERNAL: return "Internal";
    case grpc::StatusCode::UNAVAILABLE: return "Unavailable";
    case grpc::StatusCode::DATA_LOSS: return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED: return "Unauthenticated";
    default: return "Unknown";
  }
}

bool Rpc::enter() {
  std::lock_guard lock(flight_mu_);
  if (draining_) return false;
  ++in_flight_;
  return true;
}

void Rpc::leave() {
  std::lock_guard lock(flight_mu_);
  if (--in_flight_ == 0) flight_cv_.notify_all();
}

grpc::Status Rpc::refused(std::string_view name) {
  metrics_.observe_operation(name, code_name(grpc::StatusCode::UNAVAILABLE), 0);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "crius is shutting down");
}

void Rpc::drain() {
  std::lock_guard lock(flight_mu_);
  draining_ = true;
}

bool Rpc::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(flight_mu_);
  return flight_cv_.wait_until(lock, deadline, [this] { return in_flight_ == 0; });
}

grpc::Status Rpc::run(std::string_view name, const std::function<void()>& body) {
  const auto start = std::chrono::steady_clock::now();
  // The pods and containers the body looks up name themselves in it, so
  // that this call's lines say which ones they are about.
  log::Scope scope;
  grpc::Status status;
  try {
    body();
  } catch (const Error& e) {
    status = grpc::Status(to_grpc(e.code()), e.what());
  } catch (const std::exception& e) {
    status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto code = code_name(status.error_code());
  metrics_.observe_operation(name, code, seconds);

  // Every call at debug, every failure at info for an operator to follow,
  // and one the runtime itself caused at error, since no client error
  // explains it.
  const auto lvl = status.ok()                                         ? log::Level::debug
                   : status.error_code() == grpc::StatusCode::INTERNAL ? log::Level::error
                                                                       : log::Level::info;
  if (log::enabled(lvl)) {
    const std::string duration = std::to_string(seconds * 1000.0) + "ms";
    if (status.ok())
      log::write(lvl, "rpc", {{"rpc", name}, {"duration", duration}, {"code", code}});
    else
      log::write(lvl, "rpc", {{"rpc", name}, {"duration", duration}, {"code", code}, {"error", status.error_message()}});
  }
  return status;
}

}  // namespace crius::server
