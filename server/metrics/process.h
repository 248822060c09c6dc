// The process metrics every Prometheus exporter is expected to have
// (process_resident_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_max_fds, process_start_time_seconds,
// process_virtual_memory_bytes), read from /proc/self at scrape time.
#pragma once

#include <string>

namespace crius::metrics {

// The families in the text exposition format.
std::string render_process_metrics();

}  // namespace crius::metrics
