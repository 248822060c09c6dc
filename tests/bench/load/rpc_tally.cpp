#include "tests/bench/load/rpc_tally.h"
//
#include <algorithm>
#include <cmath>
#include <cstdio>

namespace crius::bench::load {

const char* code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "Cancelled";
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
    default: return "?";
  }
}

double percentile_of(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

KindTally& RpcTally::kind(const std::string& k) {
  auto [it, added] = kinds_.try_emplace(k);
  if (added) order_.push_back(k);
  return it->second;
}

void RpcTally::add(const std::string& k, double ms, Outcome o, const grpc::Status& s) {
  std::lock_guard lock(mu_);
  KindTally& t = kind(k);
  switch (o) {
    case Outcome::ok:
      ++t.ok;
      t.ms.push_back(ms);
      break;
    case Outcome::expected_not_found:
      ++t.expected_not_found;
      t.ms.push_back(ms);
      break;
    case Outcome::error:
      ++t.errors;
      ++t.error_codes[code_name(s.error_code())];
      t.last_error = std::string(code_name(s.error_code())) + ": " + s.error_message();
      break;
  }
}

void RpcTally::add_error(const std::string& k, const std::string& what) {
  std::lock_guard lock(mu_);
  KindTally& t = kind(k);
  ++t.errors;
  ++t.error_codes["bench"];
  t.last_error = what;
}

int RpcTally::errors() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [k, t] : kinds_) n += t.errors;
  return n;
}

int RpcTally::calls() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [k, t] : kinds_) n += t.ok + t.expected_not_found + t.errors;
  return n;
}

double RpcTally::percentile(const std::string& k, double p) const {
  std::lock_guard lock(mu_);
  auto it = kinds_.find(k);
  return it == kinds_.end() ? 0 : percentile_of(it->second.ms, p);
}

void RpcTally::print(const std::string& in) const {
  std::lock_guard lock(mu_);
  std::printf("%s%-18s %6s %6s %9s %6s %9s %9s %9s\n", in.c_str(), "call", "n", "ok", "NotFound*", "errors",
              "p50 ms", "p99 ms", "max ms");
  for (const auto& k : order_) {
    const KindTally& t = kinds_.at(k);
    const int n = t.ok + t.expected_not_found + t.errors;
    const double max = t.ms.empty() ? 0 : *std::max_element(t.ms.begin(), t.ms.end());
    std::printf("%s%-18s %6d %6d %9d %6d %9.2f %9.2f %9.2f\n", in.c_str(), k.c_str(), n, t.ok, t.expected_not_found,
                t.errors, percentile_of(t.ms, 50), percentile_of(t.ms, 99), max);
  }
  for (const auto& k : order_) {
    const KindTally& t = kinds_.at(k);
    if (!t.errors) continue;
    std::string codes;
    for (const auto& [c, n] : t.error_codes) codes += (codes.empty() ? "" : ", ") + c + " x" + std::to_string(n);
    std::printf("%s  ERRORS in %s: %s; last: %s\n", in.c_str(), k.c_str(), codes.c_str(), t.last_error.c_str());
  }
}

}  // namespace crius::bench::load
