#include "oci/cgroups/systemd.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>

#include "base/error.h"
#include "base/log.h"
#include "oci/cgroups/dbus_connection.h"

namespace crius::oci::cgroups::systemd {
namespace {

using namespace std::chrono_literals;
using dbus::Value;

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
// How long a unit's start or stop job may take (runc waits 30s too).
constexpr auto kJobTimeout = 30s;

// A connection to systemd, subscribed to its job signals.
std::unique_ptr<dbus::Connection> connect() {
  std::unique_ptr<dbus::Connection> c;
  if (const char* env = std::getenv("CRIUS_SYSTEMD_BUS"); env && *env) {
    c = std::make_unique<dbus::Connection>(env, false);
  } else {
    if (::geteuid() == 0 && ::access("/run/systemd/private", F_OK) == 0) {
      try {
        c = std::make_unique<dbus::Connection>("unix:path=/run/systemd/private", false);
      } catch (const Error& e) {
        log::debug(std::string("systemd's private socket: ") + e.what() + "; trying the system bus");
      }
    }
    if (!c) {
      const char* sys = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
      c = std::make_unique<dbus::Connection>(sys && *sys ? sys : "unix:path=/run/dbus/system_bus_socket", true);
      // A bus delivers the broadcast only to those who asked for it.
      c->call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
              {Value::string("type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
                             "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'")});
    }
  }
  // systemd emits job signals on the bus only while someone is subscribed
  // (a private connection gets them anyway; subscribing there is harmless).
  c->call(kDest, kPath, kManager, "Subscribe", {});
  return c;
}

// Waits for the JobRemoved of job; its result ("done" on success).
std::string wait_job(dbus::Connection& c, const std::string& job, const std::string& what) {
  auto m = c.wait_signal(
      [&](const dbus::Message& s) {
        return s.interface == kManager && s.member == "JobRemoved" && s.body.size() >= 4 && s.body[1].str == job;
      },
      std::chrono::steady_clock::now() + kJobTimeout);
  if (!m) throw DeadlineExceeded("systemd: " + what + ": job " + job + " did not finish within 30s");
  return m->body[3].str;
}

Error call_failed(const std::string& what, const dbus::CallError& e) {
  return FailedPrecondition("systemd: " + what + ": " + e.what());
}

}  // namespace

bool UnitName::is_slice() const { return unit.ends_with(".slice"); }

UnitName parse_unit_spec(const std::string& spec) {
  std::vector<std::string> parts;
  size_t i = 0;
  for (;;) {
    size_t j = spec.find(':', i);
    parts.push_back(spec.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (parts.size() != 3)
    throw InvalidArgument("linux.cgroupsPath: \"" + spec + "\" is not slice:prefix:name (the systemd cgroup driver form)");
  const std::string& prefix = parts[1];
  const std::string& name = parts[2];
  if (name.empty() || name.find('/') != std::string::npos || prefix.find('/') != std::string::npos)
    throw InvalidArgument("linux.cgroupsPath: \"" + spec + "\": invalid unit name");
  UnitName u;
  u.slice = parts[0].empty() ? "system.slice" : parts[0];
  u.unit = name.ends_with(".slice") && name.size() > 6 ? name : prefix + "-" + name + ".scope";
  return u;
}

std::string spec_or_default(const std::string& cgroups_path, const std::string& id) {
  return cgroups_path.empty() ? "system.slice:crius:" + id : cgroups_path;
}

bool running() {
  const char* env = std::getenv("CRIUS_SYSTEMD_BUS");
  return (env && *env) || ::access("/run/systemd/system", F_OK) == 0;
}

Value property(const std::string& name, Value value) {
  return Value::structure({Value::string(name), Value::variant(std::move(value))});
}

std::vector<Value> container_unit_properties(const UnitName& u, const std::string& id, pid_t pid,
                                             const Resources& r) {
  std::vector<Value> p;
  p.push_back(property("Description", Value::string("crius container " + id)));
  if (u.is_slice()) {
    // A slice cannot sit in another by property; its name says where it is.
    p.push_back(property("Wants", Value::array("s", {Value::string(u.slice)})));
  } else {
    p.push_back(property("Slice", Value::string(u.slice)));
    // The runtime (and the container) manage the cgroup below the unit.
    p.push_back(property("Delegate", Value::boolean(true)));
  }
  p.push_back(property("DefaultDependencies", Value::boolean(false)));
  p.push_back(property("PIDs", Value::array("u", {Value::u32(static_cast<uint32_t>(pid))})));
  if (r.memory && r.memory->limit && *r.memory->limit > 0)
    p.push_back(property("MemoryMax", Value::u64(static_cast<uint64_t>(*r.memory->limit))));
  if (r.cpu && r.cpu->shares && *r.cpu->shares)
    p.push_back(property("CPUWeight", Value::u64(shares_to_weight(*r.cpu->shares))));
  if (r.pids_limit && *r.pids_limit > 0)
    p.push_back(property("TasksMax", Value::u64(static_cast<uint64_t>(*r.pids_limit))));
  return p;
}

bool start_transient_unit(const std::string& name, const std::vector<Value>& properties, bool allow_existing) {
  const std::string what = "start transient unit " + name;
  auto c = connect();
  std::vector<Value> reply;
  try {
    reply = c->call(kDest, kPath, kManager, "StartTransientUnit",
                    {Value::string(name), Value::string("replace"), Value::array("(sv)", properties),
                     Value::array("(sa(sv))", {})},
                    kJobTimeout);
  } catch (const dbus::CallError& e) {
    if (allow_existing && e.name() == "org.freedesktop.systemd1.UnitExists") return false;
    if (e.name() == "org.freedesktop.systemd1.UnitExists")
      throw AlreadyExists("systemd: " + what + ": " + e.what());
    throw call_failed(what, e);
  }
  if (reply.empty() || reply[0].sig != "o") throw Internal("systemd: " + what + ": the reply has no job path");
  const std::string result = wait_job(*c, reply[0].str, what);
  if (result != "done") throw FailedPrecondition("systemd: " + what + ": job " + result);
  return true;
}

void stop_unit(const std::string& name) {
  const std::string what = "stop unit " + name;
  auto c = connect();
  std::vector<Value> reply;
  try {
    reply = c->call(kDest, kPath, kManager, "StopUnit", {Value::string(name), Value::string("replace")}, kJobTimeout);
  } catch (const dbus::CallError& e) {
    if (e.name() == "org.freedesktop.systemd1.NoSuchUnit") return;
    throw call_failed(what, e);
  }
  if (reply.empty() || reply[0].sig != "o") throw Internal("systemd: " + what + ": the reply has no job path");
  const std::string result = wait_job(*c, reply[0].str, what);
  if (result != "done" && result != "skipped") throw FailedPrecondition("systemd: " + what + ": job " + result);
}

std::string start_container_unit(const Cgroup& cg, const std::string& cgroups_path, const std::string& id, pid_t pid,
                                 const Resources& r) {
  if (!running()) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true))
      log::info("systemd is not running here: systemd cgroup paths are plain directories");
    return "";
  }
  const UnitName u = parse_unit_spec(spec_or_default(cgroups_path, id));
  start_transient_unit(u.unit, container_unit_properties(u, id, pid, r));
  // systemd wrote its defaults (pids.max from DefaultTasksMax…) when it
  // realized the unit; ours win. Devices are left as create set them so
  // that they never open up in between.
  Resources again = r;
  again.devices.clear();
  again.has_devices = false;
  try {
    cg.apply(again, true);
  } catch (...) {
    try {
      stop_unit(u.unit);
    } catch (const std::exception& e) {
      log::error(e.what());
    }
    throw;
  }
  return u.unit;
}

void stop_container_unit(const nlohmann::json& cgroup_state) {
  if (!cgroup_state.is_object() || !cgroup_state.contains(kStateKey)) return;
  stop_unit(cgroup_state[kStateKey].get<std::string>());
}

}  // namespace crius::oci::cgroups::systemd
