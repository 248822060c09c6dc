#include "container/record.h"

#include <google/protobuf/util/json_util.h>

#include "base/error.h"
#include "base/json_records.h"

namespace crius::container {
using nlohmann::json;

namespace {

std::string proto_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, opts).ok()) return "{}";
  return out;
}

void from_proto_json(const std::string& text, google::protobuf::Message& m) {
  if (text.empty()) return;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(text, &m, opts);
  if (!st.ok()) throw InvalidArgument("container record: " + std::string(st.message()));
}

}  // namespace

json Record::to_json() const {
  json volume_refs = json::object();  // by mount index, as a string
  for (const auto& [i, ref] : image_volume_refs) volume_refs[std::to_string(i)] = ref;
  return {{"id", id},
          {"podId", pod_id},
          {"name", name},
          {"attempt", attempt},
          {"config", proto_json(config)},
          {"image", image},
          {"imageId", image_id},
          {"imageName", image_name},
          {"imageRef", image_ref},
          {"state", static_cast<int>(state)},
          {"createdAt", created_at},
          {"startedAt", started_at},
          {"finishedAt", finished_at},
          {"exitCode", exit_code},
          {"reason", reason},
          {"message", message},
          {"pid", pid},
          {"bundle", bundle},
          {"cgroupsPath", cgroups_path},
          {"rootfs", rootfs},
          {"logPath", log_path},
          {"handler", handler},
          {"stopSignal", stop_signal},
          {"uid", uid},
          {"gid", gid},
          {"supplementalGroups", supplemental_groups},
          {"username", username},
          {"resources", proto_json(resources)},
          {"monitorDir", monitor_dir},
          {"runtime",
           {{"name", runtime.name},
            {"binary", runtime.binary},
            {"root", runtime.root},
            {"systemdCgroup", runtime.systemd_cgroup}}},
          {"imageVolumeRefs", volume_refs}};
}

Record Record::from_json(const json& j) {
  Record r;
  r.id = j.at("id").get<std::string>();
  r.pod_id = j.at("podId").get<std::string>();
  r.name = j.value("name", "");
  r.attempt = j.value("attempt", 0u);
  from_proto_json(j.value("config", ""), r.config);
  r.image = j.value("image", "");
  r.image_id = j.value("imageId", "");
  r.image_name = j.value("imageName", "");
  r.image_ref = j.value("imageRef", "");
  r.state = static_cast<State>(j.value("state", 3));
  r.created_at = j.value("createdAt", int64_t{0});
  r.started_at = j.value("startedAt", int64_t{0});
  r.finished_at = j.value("finishedAt", int64_t{0});
  r.exit_code = j.value("exitCode", 0);
  r.reason = j.value("reason", "");
  r.message = j.value("message", "");
  r.pid = j.value("pid", 0);
  r.bundle = j.value("bundle", "");
  r.cgroups_path = j.value("cgroupsPath", "");
  r.rootfs = j.value("rootfs", "");
  r.log_path = j.value("logPath", "");
  r.handler = j.value("handler", "");
  r.stop_signal = j.value("stopSignal", 15);
  r.uid = j.value("uid", 0u);
  r.gid = j.value("gid", 0u);
  r.supplemental_groups = j.value("supplementalGroups", std::vector<uint32_t>());
  r.username = j.value("username", "");
  from_proto_json(j.value("resources", ""), r.resources);
  r.monitor_dir = j.value("monitorDir", "");
  if (auto it = j.find("runtime"); it != j.end() && it->is_object()) {
    r.runtime.name = it->value("name", "");
    r.runtime.binary = it->value("binary", "");
    r.runtime.root = it->value("root", "");
    r.runtime.systemd_cgroup = it->value("systemdCgroup", false);
  }
  if (auto it = j.find("imageVolumeRefs"); it != j.end() && it->is_object())
    for (const auto& [i, ref] : it->items()) r.image_volume_refs[std::stoi(i)] = ref.get<std::string>();
  return r;
}

void save(const std::string& dir, const Record& r) { save_json_record(dir, r.id, r.to_json()); }

void erase_record(const std::string& dir, const std::string& id) { erase_json_record(dir, id, "container record"); }

std::vector<Record> load_all(const std::string& dir) {
  return load_json_records<Record>(dir, "container record", [](const json& j) { return Record::from_json(j); });
}

}  // namespace crius::container
