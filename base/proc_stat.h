// Fields of /proc/<pid>/stat (see proc(5)).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace crius {

// The start time of a process in clock ticks since boot (field 22), 0 when
// the process does not exist; tells a process from a later one that reused
// its pid.
uint64_t process_start_time(pid_t pid);
// Numeric field `field` (numbered as in proc(5), from 4 on), 0 when gone.
uint64_t process_stat_field(pid_t pid, int field);
// The state letter ('R', 'S', 'Z'…, field 3), 0 when gone.
char process_state(pid_t pid);
// Exists and is not a zombie: a process that ended is dead to us even
// before its parent reaps it.
bool process_running(pid_t pid);
// The pid `pid_file` names, when that process runs and its name
// (/proc/<pid>/comm) starts with `comm`; -1 otherwise (no file, a stale or
// reused pid).
pid_t running_pid_in_file(const std::string& pid_file, std::string_view comm);

}  // namespace crius
