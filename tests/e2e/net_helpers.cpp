#include "tests/e2e/net_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace crius::test {

void send_udp(const std::string& ip, int count, size_t size) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ASSERT_EQ(::inet_pton(AF_INET, ip.c_str(), &to.sin_addr), 1) << ip;
  const std::string payload(size, 'x');
  for (int i = 0; i < count; ++i)
    EXPECT_EQ(::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(payload.size()));
  ::close(fd);
}

}  // namespace crius::test
