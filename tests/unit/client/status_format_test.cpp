// The documents and text of `crius status`, from daemon answers made up here.
#include <gtest/gtest.h>

#include "client/status_json.h"
#include "client/status_text.h"

namespace crius::client {
namespace {

constexpr int64_t kNs = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z

v1::ListPodSandboxResponse two_pods() {
  v1::ListPodSandboxResponse pods;
  auto* p = pods.add_items();
  p->set_id("aaaaaaaaaaaaaaaa1111");
  p->mutable_metadata()->set_name("web");
  p->mutable_metadata()->set_namespace_("default");
  p->set_state(v1::SANDBOX_READY);
  p->set_created_at(kNs);
  auto* q = pods.add_items();
  q->set_id("bbbbbbbbbbbbbbbb2222");
  q->mutable_metadata()->set_name("db");
  q->set_state(v1::SANDBOX_NOTREADY);
  return pods;
}

v1::ListContainersResponse one_container() {
  v1::ListContainersResponse list;
  auto* c = list.add_containers();
  c->set_id("cccccccccccccccc3333");
  c->set_pod_sandbox_id("aaaaaaaaaaaaaaaa1111");
  c->mutable_metadata()->set_name("nginx");
  c->mutable_metadata()->set_attempt(2);
  c->mutable_image()->set_image("docker.io/library/nginx:1");
  c->set_state(v1::CONTAINER_RUNNING);
  c->set_created_at(kNs);
  return list;
}

TEST(StatusFormat, TimestampsAreRfc3339Utc) {
  EXPECT_EQ(timestamp_text(kNs), "2023-11-14T22:13:20Z");
  EXPECT_EQ(timestamp_text(0), "");
}

TEST(StatusFormat, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(5ull << 30), "5.0 GiB");
}

TEST(StatusFormat, TableAlignsColumnsWithoutTrailingSpace) {
  EXPECT_EQ(table({{"A", "BB"}, {"ccc", "d"}}), "A    BB\nccc  d\n");
}

TEST(StatusFormat, ContainersTableNamesThePodAndState) {
  const Doc doc = containers_document(one_container(), two_pods());
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["state"], "running");
  EXPECT_EQ(doc[0]["podName"], "web");
  EXPECT_EQ(doc[0]["attempt"], 2);
  EXPECT_EQ(doc[0]["createdAt"], "2023-11-14T22:13:20Z");
  const std::string text = containers_text(doc);
  EXPECT_EQ(text.substr(0, text.find('\n')).substr(0, 9), "CONTAINER");
  EXPECT_NE(text.find("cccccccccccc "), std::string::npos) << text;  // the 13-digit short ID
  EXPECT_NE(text.find("nginx"), std::string::npos);
  EXPECT_NE(text.find("running"), std::string::npos);
  EXPECT_NE(text.find("web"), std::string::npos);
}

TEST(StatusFormat, PodsTableCountsContainers) {
  const Doc doc = pods_document(two_pods(), one_container());
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0]["containers"], 1);
  EXPECT_EQ(doc[1]["containers"], 0);
  EXPECT_EQ(doc[1]["state"], "notready");
  EXPECT_NE(pods_text(doc).find("notready"), std::string::npos);
}

TEST(StatusFormat, InfoCountsByStateAndReadsVerboseInfo) {
  InfoAnswers a;
  a.socket = "/run/crius/crius.sock";
  a.version.set_runtime_name("crius");
  a.version.set_runtime_version("0.1.0");
  a.version.set_runtime_api_version("v1");
  auto* net = a.status.mutable_status()->add_conditions();
  net->set_type("NetworkReady");
  net->set_status(false);
  net->set_reason("NetworkPluginNotReady");
  net->set_message("no CNI config");
  a.status.add_runtime_handlers()->set_name("runc");
  (*a.status.mutable_info())["config"] = R"({"root": "/var/lib/crius", "state": "/run/crius"})";
  (*a.status.mutable_info())["cgroup"] = R"({"driver": "cgroupfs", "hierarchy": "v2", "unifiedMount": "/sys/fs/cgroup"})";
  (*a.status.mutable_info())["cni"] = R"({"network": "", "problem": "no file"})";
  a.runtime_config.mutable_linux()->set_cgroup_driver(v1::SYSTEMD);
  auto* fs = a.fs.add_image_filesystems();
  fs->mutable_fs_id()->set_mountpoint("/var/lib/crius/images");
  fs->mutable_used_bytes()->set_value(3 << 20);
  a.pods = two_pods();
  a.containers = one_container();

  const Doc d = info_document(a);
  EXPECT_EQ(d["cgroup"]["driver"], "systemd");  // RuntimeConfig's word wins
  EXPECT_EQ(d["cgroup"]["hierarchy"], "v2");
  EXPECT_EQ(d["storage"]["root"], "/var/lib/crius");
  EXPECT_EQ(d["pods"]["ready"], 1);
  EXPECT_EQ(d["pods"]["notready"], 1);
  EXPECT_EQ(d["containers"]["running"], 1);
  EXPECT_EQ(d["network"]["ready"], false);

  const std::string text = info_text(d);
  EXPECT_NE(text.find("crius 0.1.0 (CRI v1)"), std::string::npos) << text;
  EXPECT_NE(text.find("driver systemd, hierarchy v2 (/sys/fs/cgroup)"), std::string::npos) << text;
  EXPECT_NE(text.find("not ready: no CNI config"), std::string::npos) << text;
  EXPECT_NE(text.find("/var/lib/crius/images: 3.0 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("2 (ready 1, notready 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("1 (running 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("runc"), std::string::npos) << text;
}

TEST(StatusFormat, ConfigNeedsTheDaemonsConfig) {
  v1::StatusResponse s;
  EXPECT_THROW(config_document(s), std::runtime_error);
  (*s.mutable_info())["config"] = R"({"log_level": "debug"})";
  EXPECT_EQ(config_document(s)["log_level"], "debug");
}

TEST(StatusFormat, YamlTextQuotesWhatYamlWouldMisread) {
  Doc d = Doc::parse(R"({"root": "/var/lib/crius", "listen": "", "level": "no",
                         "network": {"dirs": ["/opt/cni/bin", "a: b"]},
                         "handlers": {"crius": {"type": "builtin"}}, "registries": [],
                         "list": [{"prefix": "docker.io", "insecure": true}], "count": 3, "empty": {}})");
  EXPECT_EQ(yaml_text(d),
            "root: /var/lib/crius\n"
            "listen: \"\"\n"
            "level: \"no\"\n"
            "network:\n"
            "  dirs: [/opt/cni/bin, \"a: b\"]\n"
            "handlers:\n"
            "  crius:\n"
            "    type: builtin\n"
            "registries: []\n"
            "list:\n"
            "  - prefix: docker.io\n"
            "    insecure: true\n"
            "count: 3\n"
            "empty: {}\n");
}

TEST(StatusFormat, ContainerDetailsFromVerboseInfo) {
  v1::ContainerStatusResponse res;
  res.mutable_status()->set_id("cccccccccccccccc3333");
  res.mutable_status()->mutable_metadata()->set_name("nginx");
  res.mutable_status()->set_state(v1::CONTAINER_EXITED);
  res.mutable_status()->set_exit_code(137);
  res.mutable_status()->set_reason("OOMKilled");
  (*res.mutable_info())["info"] =
      R"({"pid": 42, "monitorPid": 40, "sandboxID": "aaaa", "cgroupPath": "/sys/fs/cgroup/x", "rootfs": "/r",
          "rootfsMount": {"type": "overlay", "source": "overlay", "superOptions": "rw,lowerdir=/l"},
          "podNamespaces": {"net": "/run/ns/net"}})";
  const Doc d = container_document(res);
  EXPECT_EQ(d["monitorPid"], 40);
  EXPECT_EQ(d["podId"], "aaaa");
  const std::string text = container_text(d);
  EXPECT_NE(text.find("exited, exit code 137 (OOMKilled)"), std::string::npos) << text;
  EXPECT_NE(text.find("Monitor PID:"), std::string::npos) << text;
  EXPECT_NE(text.find("/r (overlay overlay, rw,lowerdir=/l)"), std::string::npos) << text;
  EXPECT_NE(text.find("net /run/ns/net"), std::string::npos) << text;
}

TEST(StatusFormat, ImagesWithoutTagsSayNone) {
  v1::ListImagesResponse list;
  auto* i = list.add_images();
  i->set_id("sha256:0123456789abcdef0123");
  i->set_size(2048);
  const std::string text = images_text(images_document(list));
  EXPECT_NE(text.find("0123456789abc  <none>  2.0 KiB"), std::string::npos) << text;
}

}  // namespace
}  // namespace crius::client
