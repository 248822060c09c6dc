// The files of deploy/ agree with the daemon's defaults and with each other:
// the kubelet, kind and minikube recipes and crictl.yaml name the socket
// that crius listens on when nothing is configured, the cgroup drivers of a
// recipe agree, the Dockerfiles copy the package CPack makes and drop the
// network postinst installs, and the packaged config is one the daemon loads.
// These are what this machine can check of recipes it cannot run.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "conf/keys.h"
#include "tests/unit/conf/conf_fixture.h"

namespace crius::conf {
namespace {

const std::string kDeploy = std::string(CRIUS_SOURCE_DIR) + "/deploy/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<YAML::Node> documents(const std::string& path) { return YAML::LoadAllFromFile(path); }

// What a kubelet or crictl is told: unix:// and the default listen path.
class DeployFiles : public ConfFixture {
 protected:
  void SetUp() override {
    ConfFixture::SetUp();
    listen_ = load_with().listen;
    endpoint_ = "unix://" + listen_;
  }
  std::string listen_, endpoint_;
};

TEST_F(DeployFiles, KubeletRecipesNameTheDefaultSocket) {
  EXPECT_EQ(listen_, "/run/crius/crius.sock");

  auto kubelet = documents(kDeploy + "kubelet/kubelet-config.yaml");
  ASSERT_EQ(kubelet.size(), 1u);
  EXPECT_EQ(kubelet[0]["apiVersion"].as<std::string>(), "kubelet.config.k8s.io/v1beta1");
  EXPECT_EQ(kubelet[0]["kind"].as<std::string>(), "KubeletConfiguration");
  EXPECT_EQ(kubelet[0]["containerRuntimeEndpoint"].as<std::string>(), endpoint_);
  EXPECT_EQ(kubelet[0]["imageServiceEndpoint"].as<std::string>(), endpoint_);
  const std::string driver = kubelet[0]["cgroupDriver"].as<std::string>();
  EXPECT_TRUE(driver == "systemd" || driver == "cgroupfs") << driver;

  std::vector<std::string> kinds;
  for (const auto& doc : documents(kDeploy + "kubelet/kubeadm-crius.yaml")) {
    const std::string kind = doc["kind"].as<std::string>();
    kinds.push_back(kind);
    if (kind == "KubeletConfiguration") EXPECT_EQ(doc["cgroupDriver"].as<std::string>(), driver);
    else EXPECT_EQ(doc["nodeRegistration"]["criSocket"].as<std::string>(), endpoint_) << kind;
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"InitConfiguration", "JoinConfiguration", "KubeletConfiguration"}));

  // The first line that sets the flags is the one for kubelets that have them.
  const std::string env = read(kDeploy + "kubelet/kubelet-flags.env");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(env, m, std::regex("(^|\\n)KUBELET_EXTRA_ARGS=\"([^\"]*)\""))) << env;
  const std::string flags = m[2];
  EXPECT_NE(flags.find("--container-runtime-endpoint=" + endpoint_), std::string::npos) << flags;
  EXPECT_NE(flags.find("--image-service-endpoint=" + endpoint_), std::string::npos) << flags;
  EXPECT_NE(flags.find("--cgroup-driver=" + driver), std::string::npos) << flags;
  EXPECT_EQ(flags.find("--container-runtime="), std::string::npos) << flags;
  EXPECT_EQ(flags.find("--pod-infra-container-image"), std::string::npos) << flags;

  auto crictl = documents(kDeploy + "crictl.yaml");
  ASSERT_EQ(crictl.size(), 1u);
  EXPECT_EQ(crictl[0]["runtime-endpoint"].as<std::string>(), endpoint_);
  EXPECT_EQ(crictl[0]["image-endpoint"].as<std::string>(), endpoint_);

  const std::string dropin = read(kDeploy + "kubelet/20-crius.conf");
  EXPECT_NE(dropin.find("[Unit]\nWants=crius.service\nAfter=crius.service\n"), std::string::npos) << dropin;
}

TEST_F(DeployFiles, KindClusterPatchesPointKubeadmAndKubeletAtCrius) {
  auto cluster = documents(kDeploy + "kind/cluster.yaml");
  ASSERT_EQ(cluster.size(), 1u);
  EXPECT_EQ(cluster[0]["kind"].as<std::string>(), "Cluster");
  EXPECT_EQ(cluster[0]["apiVersion"].as<std::string>(), "kind.x-k8s.io/v1alpha4");
  std::vector<std::string> kinds;
  for (const auto& text : cluster[0]["kubeadmConfigPatches"]) {
    // kind matches a patch to its documents by kind, and by apiVersion only
    // when the patch names one: none does, so both kubeadm versions match.
    YAML::Node patch = YAML::Load(text.as<std::string>());
    ASSERT_TRUE(patch.IsMap()) << text;
    EXPECT_FALSE(patch["apiVersion"]) << text;
    const std::string kind = patch["kind"].as<std::string>();
    kinds.push_back(kind);
    if (kind == "KubeletConfiguration") {
      EXPECT_EQ(patch["containerRuntimeEndpoint"].as<std::string>(), endpoint_);
      EXPECT_EQ(patch["imageServiceEndpoint"].as<std::string>(), endpoint_);
    } else {
      EXPECT_EQ(patch["nodeRegistration"]["criSocket"].as<std::string>(), endpoint_) << kind;
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"InitConfiguration", "JoinConfiguration", "KubeletConfiguration"}));
}

TEST_F(DeployFiles, NodeImagesInstallThePackageAndDropItsDefaultNetwork) {
  // CPack's Debian name: <name>_<version>_<arch>.deb.
  const std::string cmake = read(std::string(CRIUS_SOURCE_DIR) + "/deploy/package.cmake");
  EXPECT_NE(cmake.find("DEB-DEFAULT"), std::string::npos);
  const std::string postinst = read(kDeploy + "debian/postinst");
  EXPECT_NE(postinst.find("\nCNI_DIR=/etc/cni/net.d\nCNI_FILE=$CNI_DIR/10-crius-bridge.conflist\n"), std::string::npos)
      << postinst;
  const std::string network = "/etc/cni/net.d/10-crius-bridge.conflist";
  EXPECT_TRUE(std::ifstream(kDeploy + "cni/10-crius-bridge.conflist"));

  for (const char* image : {"kind/Dockerfile", "minikube/Dockerfile"}) {
    const std::string file = read(kDeploy + image);
    EXPECT_NE(file.find("COPY crius_*.deb /tmp/"), std::string::npos) << image;
    EXPECT_NE(file.find("apt-get install -y --no-install-recommends /tmp/crius_*.deb"), std::string::npos) << image;
    EXPECT_NE(file.find("rm -f " + network), std::string::npos) << image;
    // The base is an ARG pinned by digest.
    EXPECT_TRUE(std::regex_search(file, std::regex("\\nARG [A-Z_]+=[^\\s]+@sha256:[0-9a-f]{64}\\nFROM \\$\\{[A-Z_]+\\}")))
        << image;
  }
  const std::string kind = read(kDeploy + "kind/Dockerfile");
  EXPECT_NE(kind.find("systemctl enable crius.service"), std::string::npos);
  EXPECT_NE(kind.find("systemctl disable containerd.service"), std::string::npos);
  EXPECT_NE(kind.find("[Unit]\\nWants=crius.service\\nAfter=crius.service\\n"), std::string::npos);
  const std::string minikube = read(kDeploy + "minikube/Dockerfile");
  EXPECT_NE(minikube.find("ln -sfn /lib/systemd/system/crius.service /etc/systemd/system/crio.service"),
            std::string::npos);
  // minikube adds unix:// to --cri-socket itself.
  for (const char* doc : {"minikube/README.md"})
    EXPECT_NE(read(kDeploy + doc).find("--cri-socket=" + listen_ + " "), std::string::npos) << doc;
}

TEST_F(DeployFiles, ThePackagedConfigNamesEveryKeyAndChangesNone) {
  const std::string text = read(kDeploy + "crius.yaml");
  for (const Key& k : config_keys()) {
    const std::string path(k.path);
    const std::string leaf = path.substr(path.rfind('.') + 1);
    EXPECT_TRUE(std::regex_search(text, std::regex("(^|\\n) *# *" + leaf + ":"))) << path;
  }
  // Every key in it is commented out: it documents the defaults.
  const Config defaults = load_with();
  write(main_, text);
  EXPECT_EQ(load_with(), defaults);
}

}  // namespace
}  // namespace crius::conf
