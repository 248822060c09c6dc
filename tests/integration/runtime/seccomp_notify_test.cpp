// linux.seccomp with SCMP_ACT_NOTIFY and listenerPath: the runtime sends the
// container process state (JSON) with the seccomp listener fd to an agent,
// here a thread of the test that answers the notifications: the first
// mkdir fails with the errno it chooses, later ones go on in the kernel
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "tests/integration/runtime/fixture.h"

namespace crius::testing::rt {
namespace {

CRIUS_RUNTIME_SUITE(SeccompNotify);

// The agent: accepts connections on a unix socket, keeps each state JSON
// and answers every notification of every fd it got.
class Agent {
 public:
  explicit Agent(const fs::path& socket_path) {
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    ok_ = listen_ >= 0 && ::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::listen(listen_, 4) == 0;
    if (ok_) thread_ = std::thread([this] { loop(); });
  }
  ~Agent() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : notify_fds_) ::close(fd);
    if (listen_ >= 0) ::close(listen_);
  }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  bool ok() const { return ok_; }
  std::vector<std::string> states() {
    std::lock_guard<std::mutex> l(mu_);
    return states_;
  }
  int fds_received() {
    std::lock_guard<std::mutex> l(mu_);
    return fds_received_;
  }
  int notifications() const { return notifications_; }

 private:
  void accept_one() {
    int conn = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    std::string text;
    int fd = -1;
    // One message with the fd, maybe more bytes, until the JSON is whole
    // (a runtime may keep the connection open a while; the notifications
    // must still be answered meanwhile, so no waiting for EOF).
    for (int rounds = 0; rounds < 100; ++rounds) {
      struct pollfd pf {conn, POLLIN, 0};
      if (::poll(&pf, 1, 50) <= 0) continue;
      char buf[8192];
      struct iovec iov {buf, sizeof buf};
      struct msghdr mh {};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
      mh.msg_control = control;
      mh.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
      if (n <= 0) break;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
          const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          for (size_t i = 0; i < count; ++i) {
            int got;
            std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (fd < 0) fd = got;
            else ::close(got);
          }
        }
      text.append(buf, static_cast<size_t>(n));
      if (!nlohmann::json::parse(text, nullptr, false).is_discarded()) break;
    }
    ::close(conn);
    std::lock_guard<std::mutex> l(mu_);
    states_.push_back(text);
    if (fd >= 0) {
      ++fds_received_;
      notify_fds_.push_back(fd);
    }
  }

  void answer(int fd) {
    struct seccomp_notif req {};
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;
    struct seccomp_notif_resp resp {};
    resp.id = req.id;
    if (notifications_++ == 0) {
      resp.error = -EXDEV;  // the first mkdir: refused with our errno
    } else {
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // the others: done by the kernel
    }
    (void)::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }

  void loop() {
    while (!stop_) {
      std::vector<struct pollfd> p = {{listen_, POLLIN, 0}};
      {
        std::lock_guard<std::mutex> l(mu_);
        for (int fd : notify_fds_) p.push_back({fd, POLLIN, 0});
      }
      if (::poll(p.data(), p.size(), 50) <= 0) continue;
      if (p[0].revents & POLLIN) accept_one();
      for (size_t i = 1; i < p.size(); ++i)
        if (p[i].revents & POLLIN) answer(p[i].fd);
    }
  }

  int listen_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> notifications_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> states_;
  std::vector<int> notify_fds_;
  int fds_received_ = 0;
};

void notify_mkdir(Bundle& b, const fs::path& socket) {
  b.spec["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"listenerPath", socket.string()},
      {"listenerMetadata", "crius-test-metadata"},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
}

void check_state(const std::string& text, const std::string& id, pid_t pid) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << text;
  EXPECT_TRUE(j.value("ociVersion", "").size() > 0) << text;
  EXPECT_EQ(j.value("fds", nlohmann::json()), nlohmann::json({"seccompFd"})) << text;
  EXPECT_EQ(j.value("metadata", ""), "crius-test-metadata") << text;
  ASSERT_TRUE(j.contains("state") && j["state"].is_object()) << text;
  EXPECT_EQ(j["state"].value("id", ""), id) << text;
  EXPECT_GT(j.value("pid", 0), 0) << text;
  if (pid > 0) {
    EXPECT_EQ(j.value("pid", 0), pid) << text;
  }
}

TEST_P(SeccompNotify, ListenerGetsTheStateAndAnswersMkdir) {
  Agent agent(tmp() / "agent.sock");
  ASSERT_TRUE(agent.ok());
  auto b = bundle();
  notify_mkdir(*b, tmp() / "agent.sock");
  b->sh("mkdir /first 2>/dev/null; echo first=$?; mkdir /second; echo second=$?; ls -d /second");
  const std::string id = unique_id("notify");
  auto r = rt().run(id, *b);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "first=1\nsecond=0\n/second\n");
  EXPECT_FALSE(fs::exists(b->rootfs() / "first"));
  EXPECT_GE(agent.notifications(), 2);
  ASSERT_EQ(agent.fds_received(), 1);
  auto states = agent.states();
  ASSERT_EQ(states.size(), 1u);
  check_state(states[0], id, -1);
  auto j = nlohmann::json::parse(states[0], nullptr, false);
  if (!j.is_discarded()) {
    EXPECT_EQ(j["state"].value("status", ""), "creating") << states[0];
    EXPECT_EQ(j["state"].value("pid", 0), j.value("pid", -1)) << states[0];
  }
}

TEST_P(SeccompNotify, ExecSendsItsOwnListenerFd) {
  Agent agent(tmp() / "agent.sock");
  ASSERT_TRUE(agent.ok());
  auto b = bundle();
  notify_mkdir(*b, tmp() / "agent.sock");
  b->args({"sleep", "600"});
  auto c = container();
  std::string error;
  pid_t init = c->launch(*b, "sleep", &error);
  ASSERT_GT(init, 0) << error;
  auto r = rt().cmd({"exec", c->id(), "sh", "-c", "mkdir /x 2>/dev/null; echo x=$?; mkdir /y; echo y=$?"});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "x=1\ny=0\n");
  EXPECT_EQ(agent.fds_received(), 2) << "one listener fd for the init, one for the exec'd process";
  auto states = agent.states();
  ASSERT_EQ(states.size(), 2u);
  check_state(states[0], c->id(), init);
  // crun 1.8.1 sends pid 0 and a state with pid 0 for an exec'd process.
  if (!is("crun")) check_state(states[1], c->id(), -1);
}

TEST_P(SeccompNotify, NotifyWithoutListenerPathIsRefused) {
  CRIUS_SKIP_REFERENCE_GAP("crun", "crun 1.8.1 accepts SCMP_ACT_NOTIFY without a listenerPath");
  auto b = bundle();
  notify_mkdir(*b, tmp() / "agent.sock");
  b->spec["linux"]["seccomp"].erase("listenerPath");
  b->args({"true"});
  auto r = rt().run(unique_id("notify"), *b);
  EXPECT_FALSE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace crius::testing::rt
