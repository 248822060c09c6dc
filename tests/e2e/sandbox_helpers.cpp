#include "tests/e2e/sandbox_helpers.h"
//
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <thread>

namespace crius::test {
namespace fs = std::filesystem;

std::unique_ptr<grpc::ClientContext> deadline_ctx(int seconds) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

namespace {

std::string random_hex(int n) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::string s;
  for (int i = 0; i < n; ++i) s += "0123456789abcdef"[rng() % 16];
  return s;
}

// A 10.88.<n>.0/24 that no interface on the node uses now, so that tests
// running in parallel (each with its own bridge) do not share a subnet.
int random_subnet() {
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::string used;
  if (FILE* f = ::popen("ip -4 -o addr show 2>/dev/null", "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) used.append(buf, n);
    ::pclose(f);
  }
  for (;;) {
    int n = 10 + static_cast<int>(rng() % 240);
    if (used.find(" 10.88." + std::to_string(n) + ".") == std::string::npos) return n;
  }
}

void write_script(const std::string& path, const std::string& body) {
  write_file(path, body);
  ::chmod(path.c_str(), 0755);
}

}  // namespace

TestNetwork::TestNetwork() : bridge("crb" + random_hex(8)), subnet_prefix("10.88." + std::to_string(random_subnet()) + ".") {
  // Made up front so that residue snapshots taken before the first pod see
  // it: the bridge plugin creates a missing bridge and never deletes it.
  std::string cmd = "ip link add name " + bridge + " type bridge >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot create bridge " + bridge);
}

TestNetwork::~TestNetwork() {
  std::string cmd = "ip link del " + bridge + " >/dev/null 2>&1";
  if (std::system(cmd.c_str())) {
  }
}

std::string TestNetwork::conflist(const std::vector<std::string>& extra, bool portmap, const std::string& version) const {
  std::string plugins = R"({"type":"bridge","bridge":")" + bridge +
                        R"(","isGateway":true,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":")" +
                        subnet_prefix + R"(0/24"}]],"dataDir":")" + ipam.path() + R"("}})";
  if (portmap) plugins += R"(,{"type":"portmap","capabilities":{"portMappings":true}})";
  for (const auto& e : extra) plugins += "," + e;
  return R"({"cniVersion":")" + version + R"(","name":"crius-test-)" + bridge + R"(","plugins":[)" + plugins + "]}";
}

TestPlugins::TestPlugins() {
  // Each reads its config from stdin as the spec requires, and answers
  // VERSION so that tools probing it get a sane reply.
  write_script(dir / "crius-fail", R"(#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
ADD) echo '{"cniVersion":"1.0.0","code":100,"msg":"crius-fail refuses ADD","details":"a test plugin that always fails"}'; exit 1;;
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}';;
esac
exit 0
)");
  write_script(dir / "crius-hang", R"(#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] && exec sleep 600
exit 0
)");
  // Dies by SIGKILL in the middle of ADD, as an OOM-killed plugin would.
  write_script(dir / "crius-killed", R"(#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] && kill -9 $$
exit 0
)");
  write_script(dir / "crius-record", "#!/bin/sh\ncat >/dev/null\necho \"$CNI_COMMAND $CNI_CONTAINERID $CNI_ARGS\" >> " +
                                         (dir / "calls") + R"(
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0"}'
exit 0
)");
}

std::string TestPlugins::calls() const { return read_file(dir / "calls"); }

v1::PodSandboxConfig pod_config(const std::string& name) {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("crius-test");
  c.mutable_metadata()->set_uid("uid-" + name + "-" + random_hex(8));
  c.mutable_metadata()->set_attempt(0);
  c.set_hostname(name);
  (*c.mutable_labels())["app"] = name;
  (*c.mutable_annotations())["note"] = "made by the crius e2e tests";
  auto* ns = c.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::POD);
  ns->set_ipc(v1::POD);
  ns->set_pid(v1::CONTAINER);
  return c;
}

void set_host_network(v1::PodSandboxConfig& c) {
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
}

grpc::Status run_pod(Daemon& d, const v1::PodSandboxConfig& c, std::string* id) {
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = c;
  v1::RunPodSandboxResponse res;
  auto s = d.runtime()->RunPodSandbox(deadline_ctx(60).get(), req, &res);
  if (id) *id = res.pod_sandbox_id();
  return s;
}

grpc::Status stop_pod(Daemon& d, const std::string& id) {
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse res;
  return d.runtime()->StopPodSandbox(deadline_ctx(60).get(), req, &res);
}

grpc::Status remove_pod(Daemon& d, const std::string& id) {
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse res;
  return d.runtime()->RemovePodSandbox(deadline_ctx(60).get(), req, &res);
}

v1::PodSandboxStatusResponse pod_status(Daemon& d, const std::string& id, bool verbose) {
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  req.set_verbose(verbose);
  v1::PodSandboxStatusResponse res;
  auto s = d.runtime()->PodSandboxStatus(deadline_ctx().get(), req, &res);
  if (!s.ok()) throw std::runtime_error("PodSandboxStatus " + id + ": " + s.error_message());
  return res;
}

nlohmann::json pod_info(Daemon& d, const std::string& id) {
  auto res = pod_status(d, id, true);
  return nlohmann::json::parse(res.info().at("info"));
}

void in_namespace(const std::string& path, int nstype, const std::function<void()>& f) {
  std::exception_ptr failure;
  std::thread t([&] {
    try {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open " + path + " failed");
      // Threads share the filesystem info; only net, ipc and uts are entered.
      int rc = ::setns(fd, nstype);
      ::close(fd);
      if (rc != 0) throw std::runtime_error("setns " + path + " failed");
      f();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  t.join();
  if (failure) std::rethrow_exception(failure);
}

namespace {

// "<argv0 basename> <args…>" of every crius program (the daemon, monitors,
// runtimes) whose command line names `dir`, and "crius-pause <pid>" of every
// crius-pause: nothing of a pause process (no argument, its own root) names
// its pod, so all count, which holds as ctest runs e2e tests one at a time.
std::set<std::string> processes_of(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const std::string pid = p.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(p.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.empty()) continue;  // a kernel thread, or gone
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    const std::string exe = fs::path(cmdline.substr(0, cmdline.find(' '))).filename();
    if (!exe.starts_with("crius")) continue;
    if (exe == "crius-pause") {
      out.insert("crius-pause " + pid);
    } else if (cmdline.find(dir) != std::string::npos) {
      out.insert(exe + cmdline.substr(cmdline.find(' ')));
    }
  }
  return out;
}

// The rules of the nat and filter tables that name `bridge` or a CNI chain.
std::set<std::string> rules_of(const std::string& bridge) {
  std::set<std::string> out;
  for (const char* table : {"nat", "filter"}) {
    FILE* f = ::popen((std::string("iptables-save -t ") + table + " 2>/dev/null").c_str(), "r");
    if (!f) continue;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, f)) {
      std::string line(buf);
      if (line.starts_with("#") || line.starts_with(":")) continue;  // comments and counters change
      if (line.find(bridge) != std::string::npos || line.find("CNI-") != std::string::npos)
        out.insert(std::string(table) + ": " + line.substr(0, line.find_last_not_of('\n') + 1));
    }
    ::pclose(f);
  }
  return out;
}

}  // namespace

Residue snapshot(const std::string& dir, const std::string& cgroup_marker, const std::string& bridge,
                 const std::string& ipam_dir) {
  Residue r;
  r.processes = processes_of(dir);
  r.rules = rules_of(bridge);
  std::error_code ipam_ec;
  if (!ipam_dir.empty())
    for (auto it = fs::recursive_directory_iterator(ipam_dir, ipam_ec); it != fs::recursive_directory_iterator();
         it.increment(ipam_ec))
      r.files.insert(it->path());
  {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string a, b, c, root, mp;
      ls >> a >> b >> c >> root >> mp;
      if (mp.rfind(dir, 0) == 0) r.mounts.insert(mp);
    }
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/class/net/" + bridge + "/brif", ec)) r.links.insert(e.path().filename());
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    std::error_code ec2;
    for (auto it = fs::recursive_directory_iterator(h.path(), ec2); it != fs::recursive_directory_iterator(); it.increment(ec2)) {
      if (ec2) break;
      if (it->is_directory(ec2) && it->path().string().find(cgroup_marker) != std::string::npos)
        r.cgroups.insert(it->path());
      if (it.depth() > 3) it.disable_recursion_pending();
    }
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string p = it->path();
    if (p.find("/stderr") != std::string::npos || p.find("/stdout") != std::string::npos) continue;
    r.files.insert(p);
  }
  return r;
}

std::string describe_difference(const Residue& before, const Residue& after) {
  std::string out;
  auto diff = [&out](const char* what, const std::set<std::string>& a, const std::set<std::string>& b) {
    for (const auto& x : b)
      if (!a.count(x)) out += std::string("left behind ") + what + ": " + x + "\n";
    for (const auto& x : a)
      if (!b.count(x)) out += std::string("gone ") + what + ": " + x + "\n";
  };
  diff("mount", before.mounts, after.mounts);
  diff("link", before.links, after.links);
  diff("cgroup", before.cgroups, after.cgroups);
  diff("file", before.files, after.files);
  diff("process", before.processes, after.processes);
  diff("rule", before.rules, after.rules);
  return out;
}

}  // namespace crius::test
