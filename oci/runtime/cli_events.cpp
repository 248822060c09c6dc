// events: the container's stats (and OOM kills) as runc streams them.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "oci/runtime/cli_internal.h"
#include "base/duration.h"

namespace crius::oci::runtime::cli {

// runc's events: with --stats one stats event; without, a stats event every
// --interval (5s) and an oom event per OOM kill the container's memory
// cgroup counts, until the container stops. One JSON object per line.
int cmd_events(const std::string& root, const ParsedArgs& a) {
  const std::string id = need_id(a);
  Container c = Container::load(root, id);
  if (c.state().status == Status::stopped) throw FailedPrecondition("events: container " + id + " is stopped");
  auto emit = [&](const char* type, const nlohmann::json* data) {
    nlohmann::ordered_json j;
    j["type"] = type;
    j["id"] = id;
    if (data) j["data"] = *data;
    std::cout << j.dump() << std::endl;  // a reader follows line by line
  };
  if (a.has("stats")) {
    const nlohmann::json data = c.stats().to_runc_json();
    emit("stats", &data);
    return 0;
  }
  const auto interval = parse_duration(a.get("interval", "5s"));
  if (interval <= std::chrono::nanoseconds::zero()) throw InvalidArgument("events: --interval must be positive");
  // OOMs are noticed by polling the cgroup's counter, often enough for both.
  const auto tick = std::min<std::chrono::nanoseconds>(interval, std::chrono::milliseconds(100));
  uint64_t ooms = c.stats().memory.oom_events;
  auto next_stats = std::chrono::steady_clock::now() + interval;
  for (;;) {
    std::this_thread::sleep_for(tick);
    std::optional<Container> now;
    try {
      now.emplace(Container::load(root, id));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::not_found) return 0;  // deleted meanwhile
      throw;
    }
    const bool stopped = now->state().status == Status::stopped;
    cgroups::Stats st;
    try {
      st = now->stats();
    } catch (const Error&) {
      if (stopped) return 0;
      continue;  // the cgroup is going away with the container
    }
    // The OOM that ended the container is reported before we stop too.
    for (; ooms < st.memory.oom_events; ++ooms) emit("oom", nullptr);
    if (stopped) return 0;
    if (std::chrono::steady_clock::now() >= next_stats) {
      const nlohmann::json data = st.to_runc_json();
      emit("stats", &data);
      next_stats += interval;
    }
  }
}

}  // namespace crius::oci::runtime::cli
