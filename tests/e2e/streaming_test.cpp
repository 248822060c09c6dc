// Exec, Attach and PortForward as crictl and kubelet drive them: the RPC
// returns a URL, the client upgrades a connection to it (SPDY/3.1 as
// crictl and kubelet do by default, WebSocket as crictl --transport
// websocket and kubectl 1.30+ do), and the streams reach the process in the
// container or a port in the pod.
// conformance_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/conformance_helpers.h"
//
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/spdy_client.h"
#include "tests/support/ws_client.h"

namespace crius::test {
namespace {

using crius::testing::SpdyClient;
using namespace std::chrono_literals;

struct Url {
  std::string host;
  uint16_t port = 0;
  std::string path;
};
Url parse_url(const std::string& url) {
  Url u;
  const auto start = url.find("://") + 3;
  const auto slash = url.find('/', start);
  const std::string hp = url.substr(start, slash - start);
  const auto colon = hp.rfind(':');
  u.host = hp.substr(0, colon);
  u.port = static_cast<uint16_t>(std::stoi(hp.substr(colon + 1)));
  u.path = url.substr(slash);
  return u;
}

std::string exec_url(Daemon& d, const std::string& id, std::vector<std::string> cmd, bool in, bool tty,
                     grpc::Status* st = nullptr) {
  v1::ExecRequest req;
  req.set_container_id(id);
  for (auto& c : cmd) req.add_cmd(c);
  req.set_stdin(in);
  req.set_stdout(true);
  req.set_stderr(!tty);
  req.set_tty(tty);
  v1::ExecResponse res;
  auto ctx = deadline_ctx();
  auto s = d.runtime()->Exec(ctx.get(), req, &res);
  if (st) *st = s;
  return res.url();
}

std::string attach_url(Daemon& d, const std::string& id, bool in, bool tty) {
  v1::AttachRequest req;
  req.set_container_id(id);
  req.set_stdin(in);
  req.set_stdout(true);
  req.set_stderr(!tty);
  req.set_tty(tty);
  v1::AttachResponse res;
  auto ctx = deadline_ctx();
  EXPECT_TRUE(d.runtime()->Attach(ctx.get(), req, &res).ok());
  return res.url();
}

std::string forward_url(Daemon& d, const std::string& pod, std::vector<int> ports = {}) {
  v1::PortForwardRequest req;
  req.set_pod_sandbox_id(pod);
  for (int p : ports) req.add_port(p);
  v1::PortForwardResponse res;
  auto ctx = deadline_ctx();
  EXPECT_TRUE(d.runtime()->PortForward(ctx.get(), req, &res).ok());
  return res.url();
}

std::unique_ptr<SpdyClient> spdy(const std::string& url, std::vector<std::string> protos = {"v4.channel.k8s.io"}) {
  const Url u = parse_url(url);
  return SpdyClient::connect(u.host, u.port, u.path, std::move(protos));
}

struct Streams {
  int error = -1, in = -1, out = -1, err = -1, resize = -1;
};
// Opens the streams as kubectl's SPDY executor does for these options.
Streams open_streams(SpdyClient& c, bool in, bool tty) {
  Streams s;
  s.error = c.open_stream({{"streamtype", "error"}});
  if (in) s.in = c.open_stream({{"streamtype", "stdin"}});
  s.out = c.open_stream({{"streamtype", "stdout"}});
  if (!tty) s.err = c.open_stream({{"streamtype", "stderr"}});
  if (tty) s.resize = c.open_stream({{"streamtype", "resize"}});
  return s;
}

// The exit code a v4 status reports: 0 for Success, the ExitCode cause
// otherwise, -1 when there is none.
int exit_code_of(const std::string& status) {
  auto j = nlohmann::json::parse(status, nullptr, false);
  if (!j.is_object()) return -1;
  if (j.value("status", "") == "Success") return 0;
  try {
    return std::stoi(j["details"]["causes"][0]["message"].get<std::string>());
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> httpd(int port, const std::string& text);
std::string http_over(SpdyClient& c, int port, const std::string& request_id);

struct StreamingEnv : ::testing::Test {
  ContainerEnv env;
  std::string pod, ctr;
  void SetUp() override {
    pod = env.run_pod("stream");
    ctr = env.create(pod, container_config("main", env.image, {"sleep", "3600"}));
  }
};

TEST_F(StreamingEnv, ExecOverSpdyOutputStderrAndExitCodes) {
  auto c = spdy(exec_url(env.daemon, ctr, {"sh", "-c", "echo out; echo err >&2; exit 7"}, false, false));
  ASSERT_EQ(c->status(), 101) << c->body();
  auto s = open_streams(*c, false, false);
  EXPECT_EQ(c->read_all(s.out), "out\n");
  EXPECT_EQ(c->read_all(s.err), "err\n");
  EXPECT_EQ(exit_code_of(c->read_all(s.error)), 7);

  auto ok = spdy(exec_url(env.daemon, ctr, {"echo", "hi"}, false, false));
  auto so = open_streams(*ok, false, false);
  EXPECT_EQ(ok->read_all(so.out), "hi\n");
  EXPECT_EQ(exit_code_of(ok->read_all(so.error)), 0);
}

TEST_F(StreamingEnv, ExecStdinRoundTripThroughCat) {
  auto c = spdy(exec_url(env.daemon, ctr, {"cat"}, true, false));
  auto s = open_streams(*c, true, false);
  ASSERT_TRUE(c->write(s.in, "hello\n"));
  EXPECT_EQ(c->read(s.out).value_or(""), "hello\n");
  ASSERT_TRUE(c->write(s.in, "again\n"));
  EXPECT_EQ(c->read(s.out).value_or(""), "again\n");
  c->close_write(s.in);
  EXPECT_EQ(exit_code_of(c->read_all(s.error)), 0);
}

TEST_F(StreamingEnv, ExecWithTtyAndResize) {
  auto c = spdy(exec_url(env.daemon, ctr, {"sh"}, true, true));
  auto s = open_streams(*c, true, true);
  ASSERT_TRUE(c->write(s.resize, R"({"Width":123,"Height":45})"));
  ASSERT_TRUE(c->write(s.in, "stty size; tty; exit 3\n"));
  const std::string out = c->read_all(s.out, 20s);
  EXPECT_NE(out.find("45 123"), std::string::npos) << out;
  EXPECT_NE(out.find("/dev/pts/"), std::string::npos) << out;
  EXPECT_EQ(out.find('\0'), std::string::npos) << "no stray byte on the terminal";
  EXPECT_EQ(exit_code_of(c->read_all(s.error)), 3);
}

TEST_F(StreamingEnv, ExecOverWebSocketV5AndV4) {
  auto ws = WsClient::connect(exec_url(env.daemon, ctr, {"sh", "-c", "cat; exit 7"}, true, false),
                              {"v5.channel.k8s.io", "v4.channel.k8s.io"});
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->protocol(), "v5.channel.k8s.io");
  EXPECT_EQ(ws->read().value_or("?"), channel_message(1, ""));
  ASSERT_TRUE(ws->send(channel_message(0, "via ws\n")));
  EXPECT_EQ(ws->read().value_or(""), channel_message(1, "via ws\n"));
  ASSERT_TRUE(ws->send(std::string("\xff\x00", 2)));  // close stdin
  auto status = ws->read();
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)[0], 3);
  EXPECT_EQ(exit_code_of(status->substr(1)), 7);

  auto v4 = WsClient::connect(exec_url(env.daemon, ctr, {"echo", "four"}, false, false), {"v4.channel.k8s.io"});
  ASSERT_TRUE(v4);
  std::string out, st;
  for (int i = 0; i < 4; ++i) {
    auto m = v4->read();
    if (!m || m->empty()) break;
    if ((*m)[0] == 1) out += m->substr(1);
    if ((*m)[0] == 3) st = m->substr(1);
  }
  EXPECT_EQ(out, "four\n");
  EXPECT_EQ(exit_code_of(st), 0) << st << "\n" << env.daemon.log();
}

TEST_F(StreamingEnv, RpcValidation) {
  grpc::Status st;
  exec_url(env.daemon, ctr, {}, false, false, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ExecRequest both;
  both.set_container_id(ctr);
  both.add_cmd("true");
  both.set_tty(true);
  both.set_stderr(true);
  v1::ExecResponse res;
  auto ctx = deadline_ctx();
  st = env.daemon.runtime()->Exec(ctx.get(), both, &res);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("tty and stderr"), std::string::npos);
  exec_url(env.daemon, "0000000000000000000000000000000000000000000000000000000000000000", {"true"}, false, false,
           &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string stopped = env.create(pod, container_config("stopped", env.image, {"true"}));
  ASSERT_TRUE(wait_state(env.daemon, stopped, v1::CONTAINER_EXITED));
  exec_url(env.daemon, stopped, {"true"}, false, false, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find(stopped), std::string::npos);
}

TEST_F(StreamingEnv, ReusedAndUnknownTokensAre404) {
  const std::string url = exec_url(env.daemon, ctr, {"true"}, false, false);
  auto first = spdy(url);
  ASSERT_EQ(first->status(), 101);
  EXPECT_EQ(spdy(url)->status(), 404);
  const Url u = parse_url(url);
  EXPECT_EQ(SpdyClient::connect(u.host, u.port, "/exec/ffffffffffffffffffffffffffffffff", {"v4.channel.k8s.io"})
                ->status(),
            404);
  EXPECT_TRUE(env.daemon.wait_for_log("unknown, used or expired token"));
}

// Processes on the host whose command line is exactly `args`.
int count_processes(const std::vector<std::string>& args) {
  std::string want;
  for (const auto& a : args) want += a + '\0';
  int n = 0;
  DIR* d = ::opendir("/proc");
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmdline == want) ++n;
  }
  ::closedir(d);
  return n;
}

int count_entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  while (auto* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

TEST_F(StreamingEnv, ClientsThatVanishLeaveNoProcessFdOrThread) {
  env.create(pod, container_config("web", env.image, httpd(8090, "web")));
  // Warm up the daemon's pools so that their threads are counted before.
  auto warm = spdy(exec_url(env.daemon, ctr, {"true"}, false, false));
  auto ws0 = open_streams(*warm, false, false);
  warm->read_all(ws0.error);
  warm.reset();
  attach_url(env.daemon, ctr, false, false);
  forward_url(env.daemon, pod);
  const std::string self = "/proc/" + std::to_string(env.daemon.pid());
  ASSERT_TRUE(testing::eventually([&] { return count_entries(self + "/fd") >= 0; }));
  const int fds = count_entries(self + "/fd"), threads = count_entries(self + "/task");

  const std::vector<std::string> sleeper = {"sleep", "4242"}, tty_sleeper = {"sleep", "4243"};
  {
    auto c = spdy(exec_url(env.daemon, ctr, sleeper, true, false));
    open_streams(*c, true, false);
    auto t = spdy(exec_url(env.daemon, ctr, tty_sleeper, true, true));
    open_streams(*t, true, true);
    auto w = WsClient::connect(exec_url(env.daemon, ctr, {"sleep", "4244"}, true, false), {"v5.channel.k8s.io"});
    ASSERT_TRUE(w);
    // An attach, and a port-forward with a connection in the middle of its request.
    auto a = spdy(attach_url(env.daemon, ctr, false, false));
    open_streams(*a, false, false);
    auto pf = spdy(forward_url(env.daemon, pod), {"portforward.k8s.io"});
    ASSERT_TRUE(testing::eventually([&] { return http_over(*pf, 8090, "probe").find("web") != std::string::npos; },
                                    20s));
    int pe = pf->open_stream({{"streamtype", "error"}, {"port", "8090"}, {"requestid", "open"}});
    int pd = pf->open_stream({{"streamtype", "data"}, {"port", "8090"}, {"requestid", "open"}});
    ASSERT_GT(pe, 0);
    ASSERT_TRUE(pf->write(pd, "GET / HTTP/1.0\r\n"));
    auto wpf = WsClient::connect(forward_url(env.daemon, pod, {8090}), {"v4.channel.k8s.io"});
    ASSERT_TRUE(wpf);
    ASSERT_TRUE(testing::eventually([&] {
      return count_processes(sleeper) == 1 && count_processes(tty_sleeper) == 1 &&
             count_processes({"sleep", "4244"}) == 1;
    }));
    c->disconnect();
    t->disconnect();
    w->abort();
    a->disconnect();
    pf->disconnect();
    wpf->abort();
  }
  EXPECT_TRUE(testing::eventually(
      [&] {
        return count_processes(sleeper) == 0 && count_processes(tty_sleeper) == 0 &&
               count_processes({"sleep", "4244"}) == 0;
      },
      15s))
      << "an exec whose client vanished is hung up on";
  EXPECT_TRUE(testing::eventually([&] { return count_entries(self + "/fd") <= fds; }))
      << count_entries(self + "/fd") << " fds, " << fds << " before";
  EXPECT_TRUE(testing::eventually([&] { return count_entries(self + "/task") <= threads; }))
      << count_entries(self + "/task") << " threads, " << threads << " before";
}

// The daemon killed in the middle of an exec session: the monitor sees its
// stream connection close and hangs the process up; the restarted daemon
// serves new sessions to the same container.
TEST_F(StreamingEnv, DaemonKilledMidSessionLeavesNoExecAndServesAgain) {
  auto c = spdy(exec_url(env.daemon, ctr, {"sleep", "4246"}, true, false));
  ASSERT_EQ(c->status(), 101);
  open_streams(*c, true, false);
  ASSERT_TRUE(testing::eventually([&] { return count_processes({"sleep", "4246"}) == 1; }));
  env.daemon.stop(SIGKILL);
  EXPECT_TRUE(testing::eventually([&] { return count_processes({"sleep", "4246"}) == 0; }, 15s))
      << "the exec of a session whose daemon died is hung up on";
  EXPECT_TRUE(c->wait_closed(10s));
  env.daemon.restart();
  auto again = spdy(exec_url(env.daemon, ctr, {"echo", "back"}, false, false));
  ASSERT_EQ(again->status(), 101);
  auto s = open_streams(*again, false, false);
  EXPECT_EQ(again->read_all(s.out), "back\n");
  EXPECT_EQ(exit_code_of(again->read_all(s.error)), 0);
}

TEST_F(StreamingEnv, FiftyExecSessionsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&, i] {
      auto c = spdy(exec_url(env.daemon, ctr, {"echo", std::to_string(i)}, false, false));
      if (c->status() != 101) return;
      auto s = open_streams(*c, false, false);
      if (c->read_all(s.out, 30s) == std::to_string(i) + "\n" && exit_code_of(c->read_all(s.error, 30s)) == 0) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
}

TEST_F(StreamingEnv, AStreamWhoseContainerGoesAwayEndsWithAnError) {
  auto c = spdy(exec_url(env.daemon, ctr, {"sleep", "4245"}, false, false));
  auto s = open_streams(*c, false, false);
  ASSERT_TRUE(testing::eventually([&] { return count_processes({"sleep", "4245"}) == 1; }));
  ASSERT_TRUE(remove_container(env.daemon, ctr).ok());
  const std::string status = c->read_all(s.error, 20s);
  auto j = nlohmann::json::parse(status, nullptr, false);
  ASSERT_TRUE(j.is_object()) << status;
  EXPECT_EQ(j.value("status", ""), "Failure") << status;
  EXPECT_FALSE(j.value("message", "").empty()) << status;
  EXPECT_TRUE(c->wait_ended(s.out));
  EXPECT_EQ(count_processes({"sleep", "4245"}), 0);
}

// --- Attach ----------------------------------------------------------------------------------

TEST(StreamingAttach, TwoClientsSeeTheOutputAndTheLogGoesOn) {
  ContainerEnv env;
  const std::string pod = env.run_pod("attach");
  const std::string id = env.create(
      pod, container_config("ticker", env.image, {"sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"}));
  auto a = spdy(attach_url(env.daemon, id, false, false));
  auto b = spdy(attach_url(env.daemon, id, false, false));
  ASSERT_EQ(a->status(), 101);
  ASSERT_EQ(b->status(), 101);
  auto sa = open_streams(*a, false, false), sb = open_streams(*b, false, false);
  auto ra = a->read(sa.out), rb = b->read(sb.out);
  ASSERT_TRUE(ra);
  ASSERT_TRUE(rb);
  EXPECT_NE(ra->find("tick"), std::string::npos);
  EXPECT_NE(rb->find("tick"), std::string::npos);
  const std::string log_before = container_log(env.daemon, id);
  EXPECT_TRUE(testing::eventually([&] { return container_log(env.daemon, id).size() > log_before.size(); }));
  a->disconnect();
  EXPECT_TRUE(b->read(sb.out).has_value()) << "one client leaving does not end the other";
}

TEST(StreamingAttach, StdinReachesTheContainerAndItsExitEndsTheSession) {
  ContainerEnv env;
  const std::string pod = env.run_pod("attach-in");
  auto cfg = container_config("reader", env.image, {"sh", "-c", "read line; echo got $line; exit 5"});
  cfg.set_stdin(true);
  cfg.set_stdin_once(true);
  const std::string id = env.create(pod, cfg);
  auto c = spdy(attach_url(env.daemon, id, true, false));
  ASSERT_EQ(c->status(), 101);
  auto s = open_streams(*c, true, false);
  ASSERT_TRUE(c->write(s.in, "word\n"));
  EXPECT_EQ(c->read_all(s.out, 20s), "got word\n");
  // Attach reports success when the container ends; its exit code is in its status.
  EXPECT_EQ(exit_code_of(c->read_all(s.error)), 0);
  ASSERT_TRUE(wait_state(env.daemon, id, v1::CONTAINER_EXITED));
  EXPECT_EQ(container_status(env.daemon, id).status().exit_code(), 5);
  EXPECT_TRUE(wait_log(env.daemon, id, "got word"));
}

TEST(StreamingAttach, TtyContainerResize) {
  ContainerEnv env;
  const std::string pod = env.run_pod("attach-tty");
  auto cfg = container_config("shell", env.image, {"sh"});
  cfg.set_stdin(true);
  cfg.set_tty(true);
  const std::string id = env.create(pod, cfg);
  auto c = spdy(attach_url(env.daemon, id, true, true));
  ASSERT_EQ(c->status(), 101);
  auto s = open_streams(*c, true, true);
  ASSERT_TRUE(c->write(s.resize, R"({"Width":77,"Height":33})"));
  ASSERT_TRUE(c->write(s.in, "stty size\n"));
  std::string out;
  EXPECT_TRUE(testing::eventually([&] {
    if (auto m = c->read(s.out, 200ms)) out += *m;
    return out.find("33 77") != std::string::npos;
  }))
      << out;
}

// --- Port forward ----------------------------------------------------------------------------

// busybox httpd serving "<text>" at / on `port`.
std::vector<std::string> httpd(int port, const std::string& text) {
  return {"sh", "-c",
          "mkdir -p /www" + std::to_string(port) + " && echo " + text + " > /www" + std::to_string(port) +
              "/index.html && exec httpd -f -p " + std::to_string(port) + " -h /www" + std::to_string(port)};
}

std::string http_over(SpdyClient& c, int port, const std::string& request_id) {
  const std::string p = std::to_string(port);
  int e = c.open_stream({{"streamtype", "error"}, {"port", p}, {"requestid", request_id}});
  int d = c.open_stream({{"streamtype", "data"}, {"port", p}, {"requestid", request_id}});
  if (!c.write(d, "GET / HTTP/1.0\r\n\r\n")) return "write failed";
  std::string body = c.read_all(d, 20s);
  const std::string err = c.read_all(e, 5s);
  return err.empty() ? body : "error: " + err;
}

TEST(StreamingPortForward, TwoPortsManyConnectionsAndAClosedPort) {
  ContainerEnv env;
  const std::string pod = env.run_pod("pf");
  env.create(pod, container_config("web1", env.image, httpd(8080, "first")));
  env.create(pod, container_config("web2", env.image, httpd(8081, "second")));
  auto c = spdy(forward_url(env.daemon, pod), {"portforward.k8s.io"});
  ASSERT_EQ(c->status(), 101);
  // Wait until httpd listens.
  ASSERT_TRUE(testing::eventually([&] { return http_over(*c, 8080, "probe").find("first") != std::string::npos; },
                                  20s));
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    ts.emplace_back([&, i] {
      const int port = i % 2 ? 8081 : 8080;
      if (http_over(*c, port, std::to_string(i)).find(i % 2 ? "second" : "first") != std::string::npos) ++ok;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 6);
  const std::string closed = http_over(*c, 9, "closed");
  EXPECT_NE(closed.find("error: error forwarding port 9"), std::string::npos) << closed;
  EXPECT_NE(http_over(*c, 8081, "after").find("second"), std::string::npos) << "the session outlives a failed pair";
}

TEST(StreamingPortForward, WebSocketChannelsAndAHostNetworkPod) {
  ContainerEnv env;
  auto cfg = pod_config("pf-host");
  set_host_network(cfg);
  const std::string pod = env.run_pod(cfg);
  const int port = free_tcp_port();
  const std::string web = env.create(pod, container_config("web", env.image, httpd(port, "onhost")));
  ASSERT_TRUE(testing::eventually([&] { return !http_get("127.0.0.1:" + std::to_string(port), "/").empty(); }, 20s))
      << container_log(env.daemon, web) << " state " << container_status(env.daemon, web).status().state();
  auto ws = WsClient::connect(forward_url(env.daemon, pod, {port}), {"v4.channel.k8s.io"});
  ASSERT_TRUE(ws);
  ASSERT_EQ(ws->read().value_or("").size(), 3u);  // channel 0 and the port
  ASSERT_EQ(ws->read().value_or("").size(), 3u);  // channel 1 and the port
  ASSERT_TRUE(ws->send(channel_message(0, "GET / HTTP/1.0\r\n\r\n")));
  std::string got;
  while (auto m = ws->read(5s)) got += m->substr(1);
  EXPECT_NE(got.find("onhost"), std::string::npos) << got;
}

}  // namespace
}  // namespace crius::test
