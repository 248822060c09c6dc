// The parts of the CRI list filters that several RPCs share: ID prefix, pod
// ID prefix and label selector (every key must be present with that value).
// Templates, because ContainerFilter and ContainerStatsFilter (and the pod
// pair) are distinct messages with the same fields.
#pragma once

#include "container/record.h"
#include "sandbox/record.h"

namespace crius::server {

template <class Selector, class Labels>
bool labels_match(const Selector& selector, const Labels& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

template <class Filter>
bool container_filter_match(const container::Record& r, const Filter& f) {
  if (!f.id().empty() && !r.id.starts_with(f.id())) return false;
  if (!f.pod_sandbox_id().empty() && !r.pod_id.starts_with(f.pod_sandbox_id())) return false;
  return labels_match(f.label_selector(), r.config.labels());
}

template <class Filter>
bool sandbox_filter_match(const sandbox::Record& r, const Filter& f) {
  if (!f.id().empty() && !r.id.starts_with(f.id())) return false;
  return labels_match(f.label_selector(), r.spec.labels);
}

}  // namespace crius::server
