#include "server/sandbox_convert.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "server/filters.h"

namespace crius::server {
namespace v1 = ::runtime::v1;

namespace {

std::string protocol_name(v1::Protocol p) {
  switch (p) {
    case v1::TCP: return "tcp";
    case v1::UDP: return "udp";
    case v1::SCTP: return "sctp";
    default: throw InvalidArgument("port mapping: unknown protocol " + std::to_string(static_cast<int>(p)));
  }
}

v1::PodSandboxState state_of(const sandbox::Record& r) {
  return r.state == sandbox::State::ready ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY;
}

void copy_metadata(const sandbox::PodSpec& s, v1::PodSandboxMetadata* m) {
  m->set_name(s.name);
  m->set_uid(s.uid);
  m->set_namespace_(s.namespace_);
  m->set_attempt(s.attempt);
}

}  // namespace

sandbox::PodSpec to_pod_spec(const v1::PodSandboxConfig& c, const std::string& runtime_handler) {
  sandbox::PodSpec s;
  s.name = c.metadata().name();
  s.uid = c.metadata().uid();
  s.namespace_ = c.metadata().namespace_();
  s.attempt = c.metadata().attempt();
  s.hostname = c.hostname();
  s.log_directory = c.log_directory();
  s.dns.servers.assign(c.dns_config().servers().begin(), c.dns_config().servers().end());
  s.dns.searches.assign(c.dns_config().searches().begin(), c.dns_config().searches().end());
  s.dns.options.assign(c.dns_config().options().begin(), c.dns_config().options().end());
  for (const auto& p : c.port_mappings()) {
    if (p.host_port() <= 0) continue;  // only host ports need CNI; others are informational
    if (p.container_port() <= 0 || p.container_port() > 65535 || p.host_port() > 65535)
      throw InvalidArgument("port mapping " + std::to_string(p.host_port()) + ":" + std::to_string(p.container_port()) +
                            ": ports must be 1 to 65535");
    s.port_mappings.push_back({protocol_name(p.protocol()), p.container_port(), p.host_port(), p.host_ip()});
  }
  s.labels.insert(c.labels().begin(), c.labels().end());
  s.annotations.insert(c.annotations().begin(), c.annotations().end());
  const auto& lx = c.linux();
  s.cgroup_parent = lx.cgroup_parent();
  s.sysctls.insert(lx.sysctls().begin(), lx.sysctls().end());
  const auto& ns = lx.security_context().namespace_options();
  s.network = static_cast<sandbox::NsMode>(ns.network());
  s.pid = static_cast<sandbox::NsMode>(ns.pid());
  s.ipc = static_cast<sandbox::NsMode>(ns.ipc());
  s.target_id = ns.target_id();
  // An unset message means the node's user namespace (NODE); the maps are
  // validated by Sandboxes::run.
  if (ns.has_userns_options()) {
    const auto& u = ns.userns_options();
    s.userns.mode = static_cast<sandbox::NsMode>(u.mode());
    for (const auto& m : u.uids()) s.userns.uids.push_back({m.host_id(), m.container_id(), m.length()});
    for (const auto& m : u.gids()) s.userns.gids.push_back({m.host_id(), m.container_id(), m.length()});
  }
  s.runtime_handler = runtime_handler;

  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  if (google::protobuf::util::MessageToJsonString(c, &json, opts).ok())
    s.config = nlohmann::json::parse(json, nullptr, false);
  return s;
}

void to_status(const sandbox::Record& r, v1::PodSandboxStatus* st) {
  st->set_id(r.id);
  copy_metadata(r.spec, st->mutable_metadata());
  st->set_state(state_of(r));
  st->set_created_at(r.created_at);
  if (!r.ips.empty()) {
    st->mutable_network()->set_ip(r.ips.front());
    for (size_t i = 1; i < r.ips.size(); ++i) st->mutable_network()->add_additional_ips()->set_ip(r.ips[i]);
  }
  auto* ns = st->mutable_linux()->mutable_namespaces()->mutable_options();
  ns->set_network(static_cast<v1::NamespaceMode>(r.spec.network));
  ns->set_pid(static_cast<v1::NamespaceMode>(r.spec.pid));
  ns->set_ipc(static_cast<v1::NamespaceMode>(r.spec.ipc));
  ns->set_target_id(r.spec.target_id);
  st->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  st->mutable_annotations()->insert(r.spec.annotations.begin(), r.spec.annotations.end());
  st->set_runtime_handler(r.runtime_handler);
}

void to_list_item(const sandbox::Record& r, v1::PodSandbox* item) {
  item->set_id(r.id);
  copy_metadata(r.spec, item->mutable_metadata());
  item->set_state(state_of(r));
  item->set_created_at(r.created_at);
  item->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  item->mutable_annotations()->insert(r.spec.annotations.begin(), r.spec.annotations.end());
  item->set_runtime_handler(r.runtime_handler);
}

bool matches(const sandbox::Record& r, const v1::PodSandboxFilter& f) {
  if (f.has_state() && f.state().state() != state_of(r)) return false;
  return sandbox_filter_match(r, f);
}

}  // namespace crius::server
