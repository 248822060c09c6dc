// /metrics as an operator uses it: the families move with the pods and
// containers, the text passes Prometheus' own checker (promtool), a real
// Prometheus (Debian's) scrapes the daemon and answers queries about it, and
// every query of the Grafana dashboard in deploy/grafana names a family the
// daemon serves.
// container_helpers.h first: the CRI Signal enum must be parsed before <signal.h> macros exist.
#include "tests/e2e/container_helpers.h"
#include "tests/support/eventually.h"
//
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace crius::test {
namespace {

std::string body_of(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

std::string scrape(Daemon& d) { return body_of(http_get(d.metrics_address(), "/metrics")); }

// The value of the series written exactly as `series` ("crius_pods{state=\"ready\"}"), or -1.
double value_of(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  return -1;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// `promtool check metrics` on `text`: "" when it is clean, else what it says.
std::string promtool_check(const std::string& text) {
  TempDir dir;
  write_file(dir / "metrics.txt", text);
  const std::string cmd = "promtool check metrics < " + (dir / "metrics.txt") + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return status == 0 ? "" : (out.empty() ? "promtool failed" : out);
}

TEST(OperatorMetrics, FamiliesFollowThePodsAndPassPromtool) {
  ContainerEnv env;
  std::string text = scrape(env.daemon);
  EXPECT_EQ(promtool_check(text), "") << text;
  EXPECT_EQ(value_of(text, "crius_pods{state=\"ready\"}"), 0) << text;
  EXPECT_GT(value_of(text, "process_resident_memory_bytes"), 0) << text;
  EXPECT_GT(value_of(text, "process_open_fds"), 0) << text;
  EXPECT_GT(value_of(text, "process_start_time_seconds"), 1.7e9) << text;

  const std::string pod = env.run_pod("metrics");
  const std::string up = env.create(pod, container_config("up", env.image, {"sleep", "3600"}));
  const std::string quits = env.create(pod, container_config("quits", env.image, {"sh", "-c", "exit 1"}));
  ASSERT_TRUE(wait_state(env.daemon, quits, v1::CONTAINER_EXITED));
  text = scrape(env.daemon);
  EXPECT_EQ(promtool_check(text), "") << text;
  EXPECT_EQ(value_of(text, "crius_pods{state=\"ready\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "crius_containers{state=\"running\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "crius_containers{state=\"exited\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "crius_monitors"), 1) << text;
  EXPECT_TRUE(crius::testing::eventually(
      [&] { return value_of(scrape(env.daemon), "crius_container_exits_total{reason=\"Error\"}") == 1; }))
      << scrape(env.daemon);
  EXPECT_EQ(value_of(text, "crius_cni_operation_duration_seconds_count{operation=\"ADD\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "crius_streaming_sessions{kind=\"exec\"}"), 0) << text;

  ASSERT_TRUE(stop_pod(env.daemon, pod).ok());
  text = scrape(env.daemon);
  EXPECT_EQ(value_of(text, "crius_pods{state=\"notready\"}"), 1) << text;
  EXPECT_EQ(value_of(text, "crius_cni_operation_duration_seconds_count{operation=\"DEL\"}"), 1) << text;
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());
  text = scrape(env.daemon);
  EXPECT_EQ(value_of(text, "crius_pods{state=\"notready\"}"), 0) << text;
  EXPECT_EQ(value_of(text, "crius_monitors"), 0) << text;
  (void)up;
}

// Debian's prometheus on loopback, scraping one target every second.
class Prometheus {
 public:
  explicit Prometheus(const std::string& target) : port_(free_tcp_port()) {
    write_file(dir_ / "prometheus.yml", "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                        "scrape_configs:\n  - job_name: crius\n    static_configs:\n"
                                        "      - targets: ['" + target + "']\n");
    const std::string config = "--config.file=" + (dir_ / "prometheus.yml");
    const std::string storage = "--storage.tsdb.path=" + (dir_ / "data");
    const std::string listen = "--web.listen-address=" + address();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const std::string log = dir_ / "prometheus.log";
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      ::execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~Prometheus() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGTERM);
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The result vector of an instant query (empty when none, or not up yet).
  nlohmann::json query(const std::string& q) const {
    auto j = nlohmann::json::parse(body_of(http_get(address(), "/api/v1/query?query=" + url_encode(q))), nullptr, false);
    if (!j.is_object() || j.value("status", "") != "success") return nlohmann::json::array();
    return j["data"]["result"];
  }
  // Whether Prometheus takes `q` as PromQL (its answer's status).
  bool accepts(const std::string& q) const {
    auto j = nlohmann::json::parse(body_of(http_get(address(), "/api/v1/query?query=" + url_encode(q))), nullptr, false);
    return j.is_object() && j.value("status", "") == "success";
  }
  // The single value of an instant query, or "".
  std::string scalar(const std::string& q) const {
    auto r = query(q);
    return r.size() == 1 ? r[0]["value"][1].get<std::string>() : "";
  }
  std::string log() const { return read_file(dir_ / "prometheus.log"); }

 private:
  TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

// Every query of deploy/grafana/crius.json, with its panel's title.
std::vector<std::pair<std::string, std::string>> dashboard_queries() {
  std::ifstream in(std::string(CRIUS_SOURCE_DIR) + "/deploy/grafana/crius.json");
  auto dashboard = nlohmann::json::parse(in, nullptr, false);
  std::vector<std::pair<std::string, std::string>> out;
  if (!dashboard.is_object()) return out;
  for (const auto& panel : dashboard["panels"])
    for (const auto& target : panel.value("targets", nlohmann::json::array()))
      out.emplace_back(panel.value("title", ""), target.value("expr", ""));
  return out;
}

TEST(OperatorMetrics, ARealPrometheusScrapesTheDaemon) {
  ContainerEnv env;
  Prometheus prom(env.daemon.metrics_address());
  ASSERT_TRUE(crius::testing::eventually([&] { return prom.scalar("up{job=\"crius\"}") == "1"; },
                                         std::chrono::seconds(60)))
      << prom.log();
  for (const char* family : {"crius_pods", "crius_containers", "crius_operations_total", "crius_build_info",
                             "process_cpu_seconds_total", "process_resident_memory_bytes"})
    EXPECT_FALSE(prom.query(family).empty()) << family;
  EXPECT_EQ(prom.scalar("crius_pods{state=\"ready\"}"), "0");

  const std::string pod = env.run_pod("scraped");
  EXPECT_TRUE(crius::testing::eventually([&] { return prom.scalar("crius_pods{state=\"ready\"}") == "1"; },
                                         std::chrono::seconds(30)))
      << "crius_pods did not move in Prometheus";
  ASSERT_TRUE(remove_pod(env.daemon, pod).ok());

  // The dashboard's queries are PromQL this Prometheus runs, with Grafana's
  // variables as a user would have them.
  for (auto [title, expr] : dashboard_queries()) {
    for (auto [var, value] : {std::pair{"$__rate_interval", "1m"}, {"$instance", ".*"}, {"$job", ".*"}})
      for (size_t at; (at = expr.find(var)) != std::string::npos;) expr.replace(at, std::strlen(var), value);
    EXPECT_TRUE(prom.accepts(expr)) << title << ": " << expr;
  }
}

// The metric names a PromQL expression reads: its identifiers that are
// crius_ or process_ names, less a histogram's series suffix.
std::set<std::string> metrics_in(const std::string& expr) {
  static const std::regex name("\\b((crius|process)_[a-zA-Z0-9_]+)");
  std::set<std::string> out;
  for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it) {
    std::string n = (*it)[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (n.ends_with(suffix) && !n.ends_with("_total")) n.erase(n.size() - std::strlen(suffix));
    out.insert(n);
  }
  return out;
}

TEST(OperatorMetrics, EveryDashboardQueryNamesAServedFamily) {
  const auto queries = dashboard_queries();
  ASSERT_GE(queries.size(), 8u) << "deploy/grafana/crius.json is missing or not JSON";
  Daemon d;
  const std::string text = scrape(d);
  for (const auto& [title, expr] : queries) {
    const auto names = metrics_in(expr);
    EXPECT_FALSE(names.empty()) << title << ": " << expr;
    for (const auto& n : names)
      EXPECT_NE(text.find("# TYPE " + n + " "), std::string::npos)
          << title << " reads " << n << ", which /metrics does not serve";
  }
}

}  // namespace
}  // namespace crius::test
