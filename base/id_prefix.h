// Looking a record up as CRI clients name it: by its full ID or by a prefix
// that only one ID has (crictl users type a few hex digits).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/error.h"

namespace crius {

// The value whose key is `id`, or the only one whose key starts with it.
// NotFound (naming `kind` and the ID) when none matches; InvalidArgument when
// several do, so that an idempotent stop or remove never takes an ambiguous
// prefix for one that is gone.
template <typename V>
V find_by_id_or_prefix(const std::map<std::string, V>& m, const std::string& id, const std::string& kind) {
  if (id.empty()) throw InvalidArgument(kind + " ID is empty");  // a prefix of every ID
  if (auto it = m.find(id); it != m.end()) return it->second;
  const V* match = nullptr;
  for (auto p = m.lower_bound(id); p != m.end() && p->first.starts_with(id); ++p) {
    if (match) throw InvalidArgument(kind + " ID prefix " + id + " is ambiguous");
    match = &p->second;
  }
  if (!match) throw NotFound(kind + " " + id + " not found");
  return *match;
}

// lookup()'s result, or nothing when it throws NotFound. For the idempotent
// stop and remove calls (kubelet repeats them after a restart or a lost
// reply): an ID that is gone is already in the state asked for.
template <typename Lookup>
auto unless_gone(Lookup&& lookup) -> std::optional<decltype(lookup())> {
  try {
    return lookup();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
    return std::nullopt;
  }
}

}  // namespace crius
