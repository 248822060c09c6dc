// The systemd cgroup driver through systemd's D-Bus API
// (org.freedesktop.systemd1.Manager): a container's cgroup is a transient
// scope "<prefix>-<name>.scope" in its slice, and a pod's slice a transient
// slice unit, started with StartTransientUnit so that systemd knows them and
// does not later fight over cgroups it thinks it owns. Without a running
// systemd the same names map to plain directories (path.h) and nothing here
// is called.
//
// Where systemd is reached: CRIUS_SYSTEMD_BUS (a D-Bus address, peer to
// peer, for tests); else root uses systemd's private socket
// /run/systemd/private (peer to peer, no Hello); else the system bus
// (DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cgroups/dbus_message.h"
#include "oci/cgroups/cgroup.h"

namespace crius::oci::cgroups::systemd {

// A systemd-form cgroupsPath taken apart.
struct UnitName {
  std::string slice;  // the unit's parent slice, "system.slice" by default
  std::string unit;   // "<prefix>-<name>.scope", or name when it is a slice
  bool is_slice() const;
};
// "slice:prefix:name" → its unit; InvalidArgument for another form.
UnitName parse_unit_spec(const std::string& spec);
// The cgroupsPath a container with an empty one gets under the systemd driver.
std::string spec_or_default(const std::string& cgroups_path, const std::string& id);

// systemd manages cgroups here: CRIUS_SYSTEMD_BUS is set or
// /run/systemd/system exists. The first "no" is logged once per process.
bool running();

// One (name, variant) entry of a unit's a(sv) properties.
dbus::Value property(const std::string& name, dbus::Value value);
// Properties of a container's transient unit: Description, Slice (or Wants
// for a slice unit), Delegate, DefaultDependencies=no, PIDs, and the limits
// systemd has a simple property for (MemoryMax, CPUWeight, TasksMax).
std::vector<dbus::Value> container_unit_properties(const UnitName&, const std::string& id, pid_t pid,
                                                   const Resources&);

// StartTransientUnit(name, "replace", properties, []) and waits (bounded)
// for its job's JobRemoved. Returns false when the unit already exists and
// allow_existing (it is not ours then); throws otherwise, naming the unit
// and systemd's error or the job's result.
bool start_transient_unit(const std::string& name, const std::vector<dbus::Value>& properties,
                          bool allow_existing = false);
// StopUnit(name, "replace") and waits for the job; a unit systemd no longer
// knows is fine.
void stop_unit(const std::string& name);

// The runtime's hooks. After the init exists (still in setup): when systemd
// is running, starts the container's scope with the init's pid, then writes
// the resources through cgroupfs again (systemd writes its own defaults);
// returns the unit name, "" when systemd is not running.
std::string start_container_unit(const Cgroup&, const std::string& cgroups_path, const std::string& id,
                                 pid_t pid, const Resources&);
// The unit recorded in a container's cgroup state ("systemd_unit"), stopped
// if there is one. Errors are thrown naming the unit.
void stop_container_unit(const nlohmann::json& cgroup_state);
// Where start_container_unit's result is kept in the state's cgroup object.
inline constexpr const char* kStateKey = "systemd_unit";

}  // namespace crius::oci::cgroups::systemd
