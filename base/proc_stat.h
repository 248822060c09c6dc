// Fields of /proc/<pid>/stat (see proc(5)).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace crius {

// The start time of a process in clock ticks since boot (field 22), 0 when
// the process does not exist; tells a process from a later one that reused
// its pid.
uint64_t process_start_time(pid_t pid);
// Numeric field `field` (numbered as in proc(5), from 4 on), 0 when gone.
uint64_t process_stat_field(pid_t pid, int field);
// The state letter ('R', 'S', 'Z'…, field 3), 0 when gone.
char process_state(pid_t pid);

}  // namespace crius
