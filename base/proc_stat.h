// Fields of /proc/<pid>/stat (see proc(5)).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crius {

// The start time of a process in clock ticks since boot (field 22), 0 when
// the process does not exist; tells a process from a later one that reused
// its pid.
uint64_t process_start_time(pid_t pid);
// Numeric field `field` (numbered as in proc(5), from 4 on), 0 when gone.
uint64_t process_stat_field(pid_t pid, int field);
// Numeric fields first..last (numbered as in proc(5), from 4 on) from one
// read of /proc/<pid>/stat; empty when gone.
std::vector<uint64_t> process_stat_fields(pid_t pid, int first, int last);
// The state letter ('R', 'S', 'Z'…, field 3), 0 when gone.
char process_state(pid_t pid);
// Exists and is not a zombie: a process that ended is dead to us even
// before its parent reaps it.
bool process_running(pid_t pid);
// The pid `pid_file` names, when that process runs and its name
// (/proc/<pid>/comm) starts with `comm`; -1 otherwise (no file, a stale or
// reused pid).
pid_t running_pid_in_file(const std::string& pid_file, std::string_view comm);

// The link /proc/<pid>/ns/<ns> ("mnt:[4026531841]"), which names the
// namespace; "" when gone (a zombie has none) or not ours to read.
std::string namespace_link(pid_t pid, const char* ns);
// Every process in the namespace `ns` of `pid`, `pid` first.
std::vector<pid_t> processes_in_namespace(pid_t pid, const char* ns);

}  // namespace crius
