// crius-fake-systemd SOCKET LOG: the part of org.freedesktop.systemd1.Manager
// crius uses, served peer to peer on a unix socket with libsystemd's sd-bus
// (an implementation of the wire format independent of ours):
//   StartTransientUnit: records the call (one JSON line in LOG), creates the
//     unit's cgroup in every hierarchy systemd would manage (not v1 cpuset),
//     moves the PIDs there, replies with a job and emits JobRemoved "done".
//     A unit name containing "fail-job" gets JobRemoved "failed" instead; a
//     known unit, or a slice whose directory exists, UnitExists.
//   StopUnit: records, kills what is in the unit's cgroup, removes its
//     directories, JobRemoved "done"; an unknown unit NoSuchUnit.
//   Subscribe: records.
// One thread per connection. Stops on SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cgroups/hierarchy.h"
#include "oci/cgroups/path.h"

namespace {

std::mutex mu;
std::string log_path;
uint32_t next_job = 1;
std::map<std::string, std::vector<std::string>> units;  // unit → its directories

void record(const nlohmann::json& j) {
  std::ofstream(log_path, std::ios::app) << j.dump() << "\n";
}

// The hierarchies' roots systemd manages cgroups in.
std::vector<std::string> roots() {
  const auto& h = crius::oci::cgroups::Hierarchy::host();
  std::set<std::string> out;
  if (!h.unified.empty()) out.insert(h.unified);
  for (const auto& [ctrl, mp] : h.v1)
    if (ctrl != "cpuset" && mp.find("cpuset") == std::string::npos) out.insert(mp);
  return {out.begin(), out.end()};
}

bool ends_with(const std::string& s, const std::string& x) {
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

void mkdir_p(const std::string& dir) {
  std::string cur;
  std::stringstream ss(dir);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    ::mkdir(cur.c_str(), 0755);
  }
}

std::vector<pid_t> procs(const std::string& dir) {
  std::ifstream in(dir + "/cgroup.procs");
  std::vector<pid_t> out;
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}

// Reads the variant the message is at into JSON (the types crius sends).
int read_variant(sd_bus_message* m, nlohmann::json& out) {
  char type;
  const char* contents;
  int r = sd_bus_message_peek_type(m, &type, &contents);
  if (r < 0) return r;
  const std::string sig = contents;
  if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0) return r;
  if (sig == "s") {
    const char* s;
    r = sd_bus_message_read(m, "s", &s);
    out = s;
  } else if (sig == "b") {
    int b;
    r = sd_bus_message_read(m, "b", &b);
    out = static_cast<bool>(b);
  } else if (sig == "t") {
    uint64_t t;
    r = sd_bus_message_read(m, "t", &t);
    out = t;
  } else if (sig == "u") {
    uint32_t u;
    r = sd_bus_message_read(m, "u", &u);
    out = u;
  } else if (sig == "au") {
    const void* p;
    size_t n;
    r = sd_bus_message_read_array(m, 'u', &p, &n);
    out = nlohmann::json::array();
    for (size_t i = 0; r >= 0 && i < n / sizeof(uint32_t); ++i) out.push_back(static_cast<const uint32_t*>(p)[i]);
  } else if (sig == "as") {
    char** strv = nullptr;
    r = sd_bus_message_read_strv(m, &strv);
    out = nlohmann::json::array();
    for (char** s = strv; s && *s; ++s) {
      out.push_back(*s);
      free(*s);
    }
    free(strv);
  } else {
    r = sd_bus_message_skip(m, contents);
    out = "<" + sig + ">";
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

int finish_job(sd_bus_message* m, const std::string& unit, const std::string& result) {
  uint32_t id;
  {
    std::lock_guard lock(mu);
    id = next_job++;
  }
  const std::string job = "/org/freedesktop/systemd1/job/" + std::to_string(id);
  int r = sd_bus_reply_method_return(m, "o", job.c_str());
  if (r < 0) return r;
  return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                            "JobRemoved", "uoss", id, job.c_str(), unit.c_str(), result.c_str());
}

int start_unit(sd_bus_message* m, void*, sd_bus_error* err) {
  const char *name, *mode;
  int r = sd_bus_message_read(m, "ss", &name, &mode);
  if (r < 0) return r;
  nlohmann::json props = nlohmann::json::object();
  if ((r = sd_bus_message_enter_container(m, 'a', "(sv)")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
    const char* key;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    nlohmann::json v;
    if ((r = read_variant(m, v)) < 0) return r;
    props[key] = v;
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  if ((r = sd_bus_message_skip(m, "a(sa(sv))")) < 0) return r;

  const std::string unit = name;
  std::string path;
  try {
    path = ends_with(unit, ".slice")
               ? crius::oci::cgroups::expand_slice(unit)
               : crius::oci::cgroups::expand_slice(props.value("Slice", std::string("system.slice"))) + "/" + unit;
  } catch (const std::exception& e) {
    return sd_bus_error_set(err, "org.freedesktop.DBus.Error.InvalidArgs", e.what());
  }
  std::string result = "done";
  {
    std::lock_guard lock(mu);
    record({{"method", "StartTransientUnit"}, {"name", unit}, {"mode", mode}, {"properties", props}, {"path", path}});
    const auto rs = roots();
    bool exists = units.count(unit) != 0;
    if (ends_with(unit, ".slice"))
      for (const auto& root : rs) exists |= ::access((root + path).c_str(), F_OK) == 0;
    if (exists) return sd_bus_error_setf(err, "org.freedesktop.systemd1.UnitExists", "Unit %s already exists.", name);
    if (unit.find("fail-job") != std::string::npos) {
      result = "failed";
    } else {
      std::vector<std::string> dirs;
      for (const auto& root : rs) {
        mkdir_p(root + path);
        dirs.push_back(root + path);
        if (props.contains("PIDs"))
          for (const auto& p : props["PIDs"]) std::ofstream(root + path + "/cgroup.procs") << p.get<uint32_t>() << "\n";
      }
      units[unit] = dirs;
    }
  }
  return finish_job(m, unit, result);
}

int stop_unit(sd_bus_message* m, void*, sd_bus_error* err) {
  const char *name, *mode;
  int r = sd_bus_message_read(m, "ss", &name, &mode);
  if (r < 0) return r;
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(mu);
    record({{"method", "StopUnit"}, {"name", name}, {"mode", mode}});
    auto it = units.find(name);
    if (it == units.end())
      return sd_bus_error_setf(err, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
    dirs = it->second;
    units.erase(it);
  }
  for (const auto& d : dirs)
    for (pid_t p : procs(d)) ::kill(p, SIGKILL);
  for (const auto& d : dirs) {
    for (int i = 0; i < 200 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return finish_job(m, name, "done");
}

int subscribe(sd_bus_message* m, void*, sd_bus_error*) {
  {
    std::lock_guard lock(mu);
    record({{"method", "Subscribe"}});
  }
  return sd_bus_reply_method_return(m, "");
}

const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", start_unit, 0),
    SD_BUS_METHOD("StopUnit", "ss", "o", stop_unit, 0),
    SD_BUS_METHOD("Subscribe", "", "", subscribe, 0),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_VTABLE_END,
};

void serve(int fd) {
  sd_bus* bus = nullptr;
  sd_id128_t id;
  sd_id128_randomize(&id);
  if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_set_server(bus, 1, id) < 0 ||
      sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               manager_vtable, nullptr) < 0 ||
      sd_bus_start(bus) < 0) {
    std::cerr << "fake systemd: cannot set up a connection\n";
    if (bus) sd_bus_unref(bus);
    ::close(fd);
    return;
  }
  for (;;) {
    int r = sd_bus_process(bus, nullptr);
    if (r < 0) break;  // the client went away
    if (r > 0) continue;
    if (sd_bus_wait(bus, UINT64_MAX) < 0) break;
  }
  sd_bus_flush_close_unref(bus);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: crius-fake-systemd SOCKET LOG\n";
    return 2;
  }
  log_path = argv[2];
  ::signal(SIGPIPE, SIG_IGN);
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  // Bound under a temporary name and renamed, so that the socket path
  // appears only once it accepts.
  const std::string tmp = std::string(argv[1]) + ".tmp";
  std::strncpy(sa.sun_path, tmp.c_str(), sizeof(sa.sun_path) - 1);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 16) != 0 ||
      ::rename(tmp.c_str(), argv[1]) != 0) {
    std::perror("fake systemd: listen");
    return 1;
  }
  for (;;) {
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      std::perror("fake systemd: accept");
      return 1;
    }
    std::thread(serve, fd).detach();
  }
}
