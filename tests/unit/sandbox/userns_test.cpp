// The checks a pod's user namespace maps pass before anything is made, and
// their place in the sandbox record.
#include <gtest/gtest.h>

#include <functional>

#include "base/error.h"
#include "sandbox/record.h"
#include "sandbox/userns.h"

namespace crius::sandbox {
namespace {

PodSpec pod_with(std::vector<IdRange> uids, std::vector<IdRange> gids) {
  PodSpec s;
  s.network = NsMode::pod;
  s.ipc = NsMode::pod;
  s.pid = NsMode::container;
  s.userns.mode = NsMode::pod;
  s.userns.uids = std::move(uids);
  s.userns.gids = std::move(gids);
  return s;
}

const IdRange kRange{1000000, 0, 65536};

// The refusal's message, "" when the spec passes.
std::string refusal(const PodSpec& s) {
  try {
    validate_userns(s);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    return e.what();
  }
}

TEST(PodUserNamespace, KubeletsMappingPasses) {
  EXPECT_EQ(refusal(pod_with({kRange}, {kRange})), "");
  EXPECT_EQ(refusal(pod_with({{1, 0, 1}}, {{4294967295u, 0, 1}})), "") << "the last host ID";
}

TEST(PodUserNamespace, NodeModeIsTodaysBehaviour) {
  PodSpec s;
  EXPECT_EQ(refusal(s), "");
  s.network = NsMode::node;
  EXPECT_EQ(refusal(s), "");
}

TEST(PodUserNamespace, RefusalsNameTheFieldAndTheProblem) {
  const std::string f = "linux.security_context.namespace_options.userns_options";
  struct Case {
    const char* what;
    std::function<void(PodSpec&)> edit;
    std::string field, problem;
  };
  const std::vector<Case> cases = {
      {"CONTAINER", [](PodSpec& s) { s.userns.mode = NsMode::container; }, f + ".mode CONTAINER", "POD or NODE"},
      {"TARGET", [](PodSpec& s) { s.userns.mode = NsMode::target; }, f + ".mode TARGET", "POD or NODE"},
      {"no uids", [](PodSpec& s) { s.userns.uids.clear(); }, f + ".uids:", "none was given"},
      {"no gids", [](PodSpec& s) { s.userns.gids.clear(); }, f + ".gids:", "none was given"},
      {"two uids", [](PodSpec& s) { s.userns.uids.push_back({2000000, 65536, 65536}); }, f + ".uids:", "2 mappings"},
      {"two gids", [](PodSpec& s) { s.userns.gids.push_back({2000000, 65536, 65536}); }, f + ".gids:", "2 mappings"},
      {"zero length", [](PodSpec& s) { s.userns.uids[0].length = 0; }, f + ".uids[0].length", "must not be 0"},
      {"zero gid length", [](PodSpec& s) { s.userns.gids[0].length = 0; }, f + ".gids[0].length", "must not be 0"},
      {"host overlap", [](PodSpec& s) { s.userns.uids.push_back({1065535, 65536, 10}); }, f + ".uids[1].host_id",
       "overlaps uids[0]"},
      {"container overlap", [](PodSpec& s) { s.userns.gids.push_back({3000000, 65535, 10}); },
       f + ".gids[1].container_id", "overlaps gids[0]"},
      {"container 0 not mapped", [](PodSpec& s) { s.userns.uids[0].container_id = 1; },
       f + ".uids[0].container_id", "map container ID 0"},
      {"host 0", [](PodSpec& s) { s.userns.gids[0].host_id = 0; }, f + ".gids[0].host_id", "includes host ID 0"},
      {"past 32 bits", [](PodSpec& s) { s.userns.uids[0].host_id = 4294967295u; }, f + ".uids[0].length",
       "32-bit"},
      {"host network", [](PodSpec& s) { s.network = NsMode::node; }, f + ".mode POD", "network is NODE"},
      {"host IPC", [](PodSpec& s) { s.ipc = NsMode::node; }, f + ".mode POD", "ipc is NODE"},
      {"host PID", [](PodSpec& s) { s.pid = NsMode::node; }, f + ".mode POD", "pid is NODE"},
  };
  for (const auto& c : cases) {
    PodSpec s = pod_with({kRange}, {kRange});
    c.edit(s);
    const std::string msg = refusal(s);
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.what << ": " << msg;
    EXPECT_NE(msg.find(c.problem), std::string::npos) << c.what << ": " << msg;
  }
}

TEST(PodUserNamespace, MapsAreWrittenAsTheKernelTakesThem) {
  EXPECT_EQ(id_map_text({kRange}), "0 1000000 65536\n");
  EXPECT_EQ(id_map_text({{10, 1, 2}, {20, 3, 4}}), "1 10 2\n3 20 4\n");
}

TEST(PodUserNamespace, TheRecordKeepsTheMaps) {
  Record r;
  r.id = "abc";
  r.spec = pod_with({kRange}, {{2000000, 0, 65536}});
  const Record back = Record::from_json(nlohmann::json::parse(r.to_json().dump()));
  EXPECT_EQ(back.spec.userns.mode, NsMode::pod);
  EXPECT_EQ(back.spec.userns.uids, r.spec.userns.uids);
  EXPECT_EQ(back.spec.userns.gids, r.spec.userns.gids);
  // A record of an earlier daemon kept a bool: the node's.
  auto old = r.to_json();
  old["spec"]["userns"] = false;
  EXPECT_EQ(Record::from_json(old).spec.userns.mode, NsMode::node);
}

}  // namespace
}  // namespace crius::sandbox
