#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <regex>
#include <thread>

#include "base/log.h"

namespace crius::log {
namespace {

// Captures what write() sends to stderr.
std::string capture(const std::function<void()>& f) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  int saved = ::dup(2);
  ::dup2(pipefd[1], 2);
  f();
  ::dup2(saved, 2);
  ::close(saved);
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  return out;
}

TEST(Log, LevelsParseAndName) {
  for (auto name : {"trace", "debug", "info", "warn", "error"}) EXPECT_EQ(level_name(*parse_level(name)), name);
  EXPECT_FALSE(parse_level("loud"));
}

TEST(Log, OneLogfmtLinePerEvent) {
  set_level(Level::info);
  auto out = capture([] { info("pod started", {{"id", "abc"}, {"note", "has \"quotes\" and\nnewline"}}); });
  EXPECT_TRUE(std::regex_match(out, std::regex("time=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z level=info "
                                               "msg=\"pod started\" id=abc note=\"has \\\\\"quotes\\\\\" and\\\\nnewline\"\n")))
      << out;
}

TEST(Log, LevelFiltersLowerEvents) {
  set_level(Level::warn);
  auto out = capture([] {
    debug("hidden");
    info("hidden too");
    warn("shown");
    error("shown too");
  });
  set_level(Level::info);
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  EXPECT_NE(out.find("msg=shown"), std::string::npos) << out;
  EXPECT_NE(out.find("level=error msg=\"shown too\""), std::string::npos) << out;
}

// crius-runtime's --log lines, as runc writes them for conmon and cri-o.
TEST(Log, RuncTextAndJsonLines) {
  EXPECT_EQ(format_line(Level::error, "boom \"x\"", {}, Format::runc_json, "T"),
            "{\"level\":\"error\",\"msg\":\"boom \\\"x\\\"\",\"time\":\"T\"}\n");
  EXPECT_EQ(format_line(Level::warn, "careful", {}, Format::runc_text, "T"), "time=\"T\" level=warning msg=\"careful\"\n");
  EXPECT_EQ(format_line(Level::info, "x", {{"id", "a b"}}, Format::runc_json, "T"),
            "{\"level\":\"info\",\"msg\":\"x\",\"id\":\"a b\",\"time\":\"T\"}\n");
  EXPECT_EQ(format_line(Level::info, "two words", {{"id", "7"}}, Format::logfmt, "T"),
            "time=T level=info msg=\"two words\" id=7\n");
}

// The daemon's --log-format json: one object, time, level and msg first.
TEST(Log, DaemonJsonLines) {
  EXPECT_EQ(format_line(Level::warn, "say \"hi\"", {{"id", "a b"}, {"n", "7"}}, Format::json, "T"),
            "{\"time\":\"T\",\"level\":\"warn\",\"msg\":\"say \\\"hi\\\"\",\"id\":\"a b\",\"n\":\"7\"}\n");
  EXPECT_EQ(parse_format("json"), Format::json);
  EXPECT_EQ(parse_format("logfmt"), Format::logfmt);
  EXPECT_FALSE(parse_format("text"));
  set_format(Format::json);
  auto out = capture([] { info("x", {{"k", "v"}}); });
  set_format(Format::logfmt);
  EXPECT_TRUE(std::regex_match(out, std::regex("\\{\"time\":\"[0-9T:.-]+Z\",\"level\":\"info\",\"msg\":\"x\",\"k\":\"v\"\\}\n")))
      << out;
}

// What an RPC names once (annotate) rides on every line it writes, after
// the line's own fields; the line's own key wins, an inner Scope's over an
// outer's, and nothing is kept once the Scope ends or without one.
TEST(Log, ScopeFieldsFollowTheThreadsLines) {
  set_level(Level::info);
  annotate("pod", "lost");  // no Scope: dropped
  EXPECT_FALSE(annotating());
  auto out = capture([] {
    info("before");
    {
      Scope rpc;
      EXPECT_TRUE(annotating());
      annotate("pod", "ns/a");
      annotate("container", "c1");
      annotate("pod", "ns/b");  // replaces
      info("inside", {{"x", "1"}});
      info("own key", {{"container", "mine"}});
      {
        Scope inner;
        annotate("container", "c2");
        info("nested");
      }
      info("after nested");
    }
    info("after");
  });
  EXPECT_FALSE(annotating());
  EXPECT_NE(out.find("msg=before\n"), std::string::npos) << out;
  EXPECT_NE(out.find("msg=inside x=1 pod=ns/b container=c1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("msg=\"own key\" container=mine pod=ns/b\n"), std::string::npos) << out;
  EXPECT_NE(out.find("msg=nested pod=ns/b container=c2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("msg=\"after nested\" pod=ns/b container=c1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("msg=after\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("lost"), std::string::npos) << out;
  // Another thread's lines do not see this one's fields.
  Scope mine;
  annotate("pod", "ns/mine");
  out = capture([] { std::thread([] { info("elsewhere"); }).join(); });
  EXPECT_NE(out.find("msg=elsewhere\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace crius::log
