// Latencies and outcomes of CRI calls by kind, shared by the threads that
// make them. Three outcomes: ok; an expected NotFound (the churn removed the
// pod or container the call named, after the caller picked it); an error
// (anything else, the one kind the bench fails on).
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace crius::bench::load {

enum class Outcome { ok, expected_not_found, error };

struct KindTally {
  std::vector<double> ms;  // calls that answered ok or expected_not_found
  int ok = 0, expected_not_found = 0, errors = 0;
  std::map<std::string, int> error_codes;  // gRPC code name -> count
  std::string last_error;
};

class RpcTally {
 public:
  void add(const std::string& kind, double ms, Outcome o, const grpc::Status& s = grpc::Status::OK);
  // An error that is not a call's (a cgroup left behind, a step skipped).
  void add_error(const std::string& kind, const std::string& what);
  int errors() const;
  int calls() const;
  // One row per kind, in the order kinds were first seen: n, ok, expected
  // NotFound, errors, p50/p99/max ms; then each kind's error codes and last error.
  void print(const std::string& indent) const;
  // p-th percentile (nearest rank) of a kind's latencies, 0 when none.
  double percentile(const std::string& kind, double p) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, KindTally> kinds_;
  KindTally& kind(const std::string& k);
};

const char* code_name(grpc::StatusCode c);
double percentile_of(std::vector<double> v, double p);

}  // namespace crius::bench::load
