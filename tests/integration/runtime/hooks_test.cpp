// hooks: each kind gets the state on stdin, its args and env, runs at its
// point of the lifecycle; a failing or hanging hook fails create.
#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(Hooks);

// A hook running `sh -c script` that saves its stdin to <dir>/<kind>.json and
// appends "<kind> $HOOKVAR" to <dir>/order. createContainer runs in the
// container's namespaces (host paths may or may not be visible, depending on
// whether it runs before pivot_root) and startContainer inside the container,
// so those fall back to /hooks, where the same directory is bind-mounted.
nlohmann::json hook(const std::string& kind, const fs::path& host_dir) {
  const std::string d = host_dir.string();
  std::string script = "if [ -d " + d + " ]; then d=" + d + "; else d=/hooks; fi; cat > $d/" + kind + ".json; echo \"" +
                       kind + " $HOOKVAR\" >> $d/order";
  return {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}, {"env", {"HOOKVAR=v-" + kind}}, {"timeout", 10}};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

TEST_P(Hooks, EveryKindRunsWithStateOnStdin) {
  const fs::path h = dir("hooks");
  fs::permissions(h, fs::perms::all);
  auto b = bundle();
  b->add_mount("/hooks", "bind", h.string(), {"rbind"});
  b->spec["hooks"] = {{"prestart", {hook("prestart", h)}},
                      {"createRuntime", {hook("createRuntime", h)}},
                      {"createContainer", {hook("createContainer", h)}},
                      {"startContainer", {hook("startContainer", h)}},
                      {"poststart", {hook("poststart", h)}},
                      {"poststop", {hook("poststop", h)}}};
  b->sh("touch /tmp/ran; sleep 0.2");
  auto c = container();
  auto r = c->create(*b);
  ASSERT_TRUE(r.ok()) << r.describe();
  pid_t pid = c->last_pid();
  for (const char* kind : {"prestart", "createRuntime", "createContainer"})
    EXPECT_TRUE(fs::exists(h / (std::string(kind) + ".json"))) << kind << " must have run by the end of create";
  // Disagreement: runc 1.1.5 runs poststart hooks at create (the spec runs
  // them after start); crun follows the spec. Not checked for runc.
  for (const char* kind : {"startContainer", "poststart", "poststop"}) {
    if (is("runc") && std::string(kind) == "poststart") continue;
    EXPECT_FALSE(fs::exists(h / (std::string(kind) + ".json"))) << kind << " ran too early";
  }

  ASSERT_TRUE(rt().start(c->id()).ok());
  EXPECT_TRUE(wait_for_file(h / "poststart.json", 5s, true));
  EXPECT_TRUE(wait_for_file(h / "startContainer.json", 5s, true));
  ASSERT_TRUE(rt().wait_status(c->id(), "stopped"));
  EXPECT_FALSE(fs::exists(h / "poststop.json")) << "poststop runs at delete";
  auto d = rt().del(c->id());
  ASSERT_TRUE(d.ok()) << d.describe();
  EXPECT_TRUE(wait_for_file(h / "poststop.json", 5s, true));

  for (const char* kind : {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}) {
    SCOPED_TRACE(kind);
    const std::string text = read_file(h / (std::string(kind) + ".json"));
    nlohmann::json st;
    ASSERT_NO_THROW(st = nlohmann::json::parse(text)) << "stdin of the hook is not JSON: " << text;
    EXPECT_EQ(st.value("id", ""), c->id());
    EXPECT_TRUE(st.contains("ociVersion") && st.contains("status")) << text;
    // Hooks run in the runtime's namespaces see the host pid of the
    // container and the bundle path. For createContainer/startContainer,
    // which run in the container's namespaces, runc and crun disagree (runc:
    // pid 1, crun: pid 0 and bundle "/" for startContainer): not checked.
    const std::string k = kind;
    if (k == "prestart" || k == "createRuntime" || k == "poststart") {
      EXPECT_EQ(st.value("pid", -1), pid) << text;
      EXPECT_EQ(fs::path(st.value("bundle", "")), b->dir()) << text;
    }
    if (k == "poststop") {
      EXPECT_EQ(fs::path(st.value("bundle", "")), b->dir()) << text;
    }
  }
  // Order of the lifecycle, and each hook's own env.
  auto order = lines(read_file(h / "order"));
  auto pos = [&](const std::string& kind) {
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i] == kind + " v-" + kind) return static_cast<int>(i);
    return -1;
  };
  for (const char* kind : {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"})
    EXPECT_GE(pos(kind), 0) << kind << " missing or without its env in:\n" << read_file(h / "order");
  EXPECT_LT(pos("createRuntime"), pos("createContainer"));
  EXPECT_LT(pos("createContainer"), pos("startContainer"));
  EXPECT_LT(pos("startContainer"), pos("poststop"));
  EXPECT_LT(pos("poststart"), pos("poststop"));
}

TEST_P(Hooks, FailingCreateRuntimeHookFailsCreate) {
  auto b = bundle();
  b->args({"sleep", "60"});
  b->spec["hooks"] = {{"createRuntime", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}}}};
  auto c = container();
  auto r = c->create(*b);
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(rt().status(c->id()), "created") << "a failed create must not leave a container";
  // The fixture's TearDown checks that no process and no state is left.
}

TEST_P(Hooks, HangingHookTimesOut) {
  auto b = bundle();
  b->args({"sleep", "60"});
  b->spec["hooks"] = {{"createRuntime", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
  auto c = container();
  SpawnOptions o;
  o.timeout = 15s;  // well under the hook's 30 s: only the hook timeout can end it in time
  b->write();
  auto r = rt().create(c->id(), *b, {}, o);
  EXPECT_FALSE(r.timed_out) << "the hook's timeout was not enforced";
  EXPECT_NE(r.exit_code, 0) << r.describe();
}

TEST_P(Hooks, FailingPoststartHookIsOnlyAWarning) {
  // The spec: a failing poststart hook is logged as a warning and the
  // lifecycle goes on as if it had succeeded. Disagreement: runc 1.1.5 runs
  // poststart during create and fails the create; crun follows the spec.
  CRIUS_SKIP_REFERENCE_GAP("runc", "runc 1.1.5 runs poststart hooks at create and fails create when one fails");
  auto b = bundle();
  b->args({"sleep", "60"});
  b->spec["hooks"] = {{"poststart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 1"}}}}}};
  auto c = container();
  ASSERT_TRUE(c->create(*b).ok());
  auto s = rt().start(c->id());
  EXPECT_TRUE(s.ok()) << s.describe();
  EXPECT_EQ(rt().status(c->id()), "running");
}

}  // namespace
}  // namespace crius::testing::rt
